/**
 * What the grid checks and changes in a WASM kind's module bytes before compiling them:
 *
 * - the table cap: at most one table, of at most MAX_TABLE_ELEMENTS, its maximum rewritten so;
 * - the memory cap, by construction: clang and rustc export a memory that usually has no
 *   maximum, so the memory section's limits are rewritten (LEB128) to `maximum = min(declared,
 *   cap)`. `memory.grow` past it then fails inside the module (malloc returns NULL) instead of
 *   taking the volunteer's RAM. A module whose *initial* memory exceeds the cap is refused.
 * - the imports and exports: only functions of `wasi_snapshot_preview1` may be imported (no
 *   imported memory, table or global: a host could not honour the cap for an imported memory),
 *   and `_start` (a function) and `memory` must be exported — a WASI command module.
 *
 * Isomorphic: used by `swarmgrid kind add`, node worker threads and browser Web Workers.
 */

/** Why a module was refused; `code` maps to a GRID_ERR_* code at the coordinator. */
export class WasmModuleError extends Error {
  constructor(readonly reason: 'module' | 'import' | 'export' | 'memory', message: string) {
    super(message);
  }
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const MEMORY_SECTION = 5;
export const WASI_MODULE = 'wasi_snapshot_preview1';

function readLeb(bytes: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= bytes.length) throw new WasmModuleError('module', 'the module ends inside a number');
    const b = bytes[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: pos };
    shift += 7;
  }
  throw new WasmModuleError('module', 'a LEB128 number is longer than 5 bytes');
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

/**
 * Most table elements a module may have, over its one table: 1 M (8 MB of references). clang
 * and rustc make one table, of the address-taken functions (hundreds to a few thousand). Tables
 * are memory the page cap does not count: 20 tables of 10 M elements took 5.5 GB and 3 minutes
 * of a volunteer's machine to instantiate before this bound.
 */
export const MAX_TABLE_ELEMENTS = 1_000_000;

const TABLE_SECTION = 4;

/** A limits field (flags, min, max?) of a table or memory, read at `pos`. */
function readLimits(bytes: Uint8Array, pos: number, what: string): { min: number; max: number; next: number } {
  const flags = bytes[pos]!;
  if (flags & 0x02) throw new WasmModuleError('memory', `shared ${what}s (threads) are not supported`);
  if (flags & 0x04) throw new WasmModuleError('memory', `64-bit ${what}s are not supported`);
  if (flags > 1) throw new WasmModuleError('memory', `unknown ${what} limits flags ${flags}`);
  const min = readLeb(bytes, pos + 1);
  if (flags === 0) return { min: min.value, max: Infinity, next: min.next };
  const max = readLeb(bytes, min.next);
  return { min: min.value, max: max.value, next: max.next };
}

/** A section's bytes: id, size, content. */
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];

/** The memory section, its maximum at most `capPages`; undefined when it declares no memory. */
function cappedMemory(bytes: Uint8Array, start: number, end: number, capPages: number): number[] | undefined {
  const count = readLeb(bytes, start);
  if (count.value === 0) return undefined;
  if (count.value > 1) throw new WasmModuleError('memory', 'the module declares more than one memory');
  const { min, max, next } = readLimits(bytes, count.next, 'memory');
  if (next !== end) throw new WasmModuleError('module', 'the memory section has trailing bytes');
  if (min > capPages) throw new WasmModuleError('memory', `the module's initial memory (${min} pages) exceeds the cap of ${capPages} pages`);
  return section(MEMORY_SECTION, [1, 0x01, ...leb(min), ...leb(Math.min(max, capPages))]);
}

/** The table section, at most one table, its maximum at most MAX_TABLE_ELEMENTS. */
function cappedTables(bytes: Uint8Array, start: number, end: number): number[] | undefined {
  const count = readLeb(bytes, start);
  if (count.value === 0) return undefined;
  if (count.value > 1) throw new WasmModuleError('memory', `the module declares ${count.value} tables: at most one (the function table a compiler makes) is allowed`);
  const refType = bytes[count.next]!;
  if (refType !== 0x70 && refType !== 0x6f) throw new WasmModuleError('module', `a table of type 0x${refType.toString(16)}: only funcref and externref tables are supported`);
  const { min, max, next } = readLimits(bytes, count.next + 1, 'table');
  if (next !== end) throw new WasmModuleError('module', 'the table section has trailing bytes (a table initialiser?)');
  if (min > MAX_TABLE_ELEMENTS) throw new WasmModuleError('memory', `the module's table has ${min} elements, more than the ${MAX_TABLE_ELEMENTS} allowed`);
  return section(TABLE_SECTION, [1, refType, 0x01, ...leb(min), ...leb(Math.min(max, MAX_TABLE_ELEMENTS))]);
}

/**
 * Returns the module bytes with its memory's maximum set to at most `capPages`, and its table's
 * to at most MAX_TABLE_ELEMENTS. Throws WasmModuleError for bytes that are not a WebAssembly 1.0
 * binary, for a 64-bit or shared memory, an initial memory above the cap, more than one table or
 * one above its cap. A module without a memory section (its memory imported, which checkModule
 * refuses) keeps no memory.
 */
export function capMemory(bytes: Uint8Array, capPages: number): Uint8Array {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new WasmModuleError('module', 'not a WebAssembly 1.0 binary (bad magic or version)');
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  let changed = false;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const size = readLeb(bytes, pos + 1);
    const start = size.next;
    const end = start + size.value;
    if (end > bytes.length) throw new WasmModuleError('module', `section ${id} runs past the end of the module`);
    const replaced = id === MEMORY_SECTION ? cappedMemory(bytes, start, end, capPages)
      : id === TABLE_SECTION ? cappedTables(bytes, start, end)
        : undefined;
    if (replaced) {
      parts.push(Uint8Array.from(replaced));
      changed = true;
    } else parts.push(bytes.subarray(pos, end));
    pos = end;
  }
  if (!changed) return bytes;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Compiles module bytes (after capMemory) and checks the WASI command shape. */
export async function compileChecked(bytes: Uint8Array): Promise<WebAssembly.Module> {
  let module: WebAssembly.Module;
  try {
    // A view over an ArrayBuffer (never shared): what the module bytes always are here.
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new WasmModuleError('module', `the module does not compile: ${(err as Error).message}`);
  }
  checkModule(module);
  return module;
}

export function checkModule(module: WebAssembly.Module): void {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== WASI_MODULE || imp.kind !== 'function') {
      throw new WasmModuleError('import', `the module imports ${imp.kind} "${imp.module}"."${imp.name}": only functions of ${WASI_MODULE} are allowed`);
    }
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new WasmModuleError('export', 'the module does not export a function _start: build a WASI command (a program with main), not a reactor or library');
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) throw new WasmModuleError('export', 'the module does not export its memory as "memory"');
}
