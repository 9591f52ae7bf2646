/**
 * What the grid checks and changes in a WASM kind's module bytes before compiling them:
 *
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
 * Returns the module bytes with its memory's maximum set to at most `capPages`. Throws
 * WasmModuleError for bytes that are not a WebAssembly 1.0 binary, for a 64-bit or shared memory,
 * or an initial memory above the cap. A module without a memory section (its memory imported,
 * which checkModule refuses) is returned unchanged.
 */
export function capMemory(bytes: Uint8Array, capPages: number): Uint8Array {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new WasmModuleError('module', 'not a WebAssembly 1.0 binary (bad magic or version)');
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const size = readLeb(bytes, pos + 1);
    const start = size.next;
    const end = start + size.value;
    if (end > bytes.length) throw new WasmModuleError('module', `section ${id} runs past the end of the module`);
    if (id === MEMORY_SECTION) {
      const count = readLeb(bytes, start);
      if (count.value === 0) return bytes;
      if (count.value > 1) throw new WasmModuleError('memory', 'the module declares more than one memory');
      const flags = bytes[count.next]!;
      if (flags & 0x02) throw new WasmModuleError('memory', 'shared memories (threads) are not supported');
      if (flags & 0x04) throw new WasmModuleError('memory', '64-bit memories are not supported');
      if (flags > 1) throw new WasmModuleError('memory', `unknown memory limits flags ${flags}`);
      const min = readLeb(bytes, count.next + 1);
      let next = min.next;
      let max = Infinity;
      if (flags === 1) {
        const m = readLeb(bytes, min.next);
        max = m.value;
        next = m.next;
      }
      if (next !== end) throw new WasmModuleError('module', 'the memory section has trailing bytes');
      if (min.value > capPages) throw new WasmModuleError('memory', `the module's initial memory (${min.value} pages) exceeds the cap of ${capPages} pages`);
      const content = [1, 0x01, ...leb(min.value), ...leb(Math.min(max, capPages))];
      const section = [MEMORY_SECTION, ...leb(content.length), ...content];
      const out = new Uint8Array(bytes.length - (end - pos) + section.length);
      out.set(bytes.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(bytes.subarray(end), pos + section.length);
      return out;
    }
    // Sections come in order (custom sections, id 0, anywhere): past the import section and
    // a few more without a memory section, there is none.
    pos = end;
  }
  return bytes;
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
