/**
 * Runs a WASI preview 1 command module the way the grid's ABI does (stdin = the input as canonical
 * JSON and "\n"; argv = [kind, key=value per top-level scalar field, keys sorted]; stdout = output;
 * exit code != 0 = task error), with node:wasi, for the examples' own tests of their science.
 * A test helper, not the product's runtime (that is wasm-core's, run by the end-to-end test).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';

// The project's lib is ES2022 without DOM, where TypeScript knows WebAssembly only as a namespace
// of types: the two calls used here, typed locally.
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const modules = new Map<string, object>();

export interface WasiRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** argv of the ABI for an object input: `key=value` per scalar field, keys in sorted order. */
export function argvFor(kind: string, input: Record<string, unknown>): string[] {
  const args = [kind];
  for (const key of Object.keys(input).sort()) {
    const v = input[key];
    if (typeof v === 'number' || typeof v === 'boolean') args.push(`${key}=${JSON.stringify(v)}`);
    else if (typeof v === 'string') args.push(`${key}=${v}`);
  }
  return args;
}

export async function runWasi(file: string, kind: string, input: Record<string, unknown>): Promise<WasiRun> {
  let mod = modules.get(file);
  if (!mod) {
    mod = await wasmApi.compile(readFileSync(file));
    modules.set(file, mod);
  }
  const dir = mkdtempSync(join(tmpdir(), 'wasi-run-'));
  const fds: number[] = [];
  try {
    writeFileSync(join(dir, 'in'), `${JSON.stringify(input)}\n`);
    fds.push(openSync(join(dir, 'in'), 'r'), openSync(join(dir, 'out'), 'w'), openSync(join(dir, 'err'), 'w'));
    const wasi = new WASI({ version: 'preview1', args: argvFor(kind, input), env: {}, stdin: fds[0], stdout: fds[1], stderr: fds[2], returnOnExit: true });
    const instance = await wasmApi.instantiate(mod, wasi.getImportObject());
    const code = wasi.start(instance);
    for (const fd of fds.splice(0)) closeSync(fd);
    return { code, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
