/**
 * One task of a WASM kind, as node worker threads (worker/task-thread.ts) and browser Web Workers
 * (browser-worker/task-worker.ts) both run it: from the verified bundle bytes to the output bytes
 * or a task error. Compiled modules are cached by bundle hash and memory cap.
 */
import { decodeInput } from './codec.js';
import { unpackWasmBundle } from './wasm-bundle.js';
import type { WasmManifest } from './wasm-manifest.js';
import { capMemory, compileChecked } from './wasm-module.js';
import { runWasmUnit, unitSeed } from './wasm-run.js';

export type WasmTaskOutcome =
  | { output: Uint8Array }
  | { errorCode: 'exception' | 'invalid_input' | 'unknown_kind'; message: string };

interface Prepared {
  manifest: WasmManifest;
  module: WebAssembly.Module;
}

const prepared = new Map<string, Promise<Prepared>>();

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

async function prepare(bundleBytes: Uint8Array, capPages: number): Promise<Prepared> {
  const bundle = unpackWasmBundle(bundleBytes);
  const cap = Math.min(bundle.manifest.limits.memoryPages, capPages);
  const module = await compileChecked(capMemory(bundle.module, cap));
  return { manifest: bundle.manifest, module };
}

/**
 * Runs one unit. `bundle` is read lazily (only when the module is not compiled yet); `memoryMb`
 * is the task's own memory limit (0 = the manifest's alone).
 */
export async function runWasmTask(opts: {
  kind: string;
  codeHash: Uint8Array;
  bundle: () => Uint8Array | Promise<Uint8Array>;
  input: Uint8Array;
  memoryMb: number;
  maxOutputBytes?: number;
}): Promise<WasmTaskOutcome> {
  const capPages = opts.memoryMb > 0 ? Math.max(1, Math.floor(opts.memoryMb * 16)) : Number.MAX_SAFE_INTEGER;
  const key = `${hex(opts.codeHash)}:${capPages}`;
  let ready = prepared.get(key);
  if (!ready) {
    ready = Promise.resolve(opts.bundle()).then((b) => prepare(b, capPages));
    prepared.set(key, ready);
    ready.catch(() => prepared.delete(key));
  }
  let p: Prepared;
  try {
    p = await ready;
  } catch (err) {
    return { errorCode: 'exception', message: `WASM kind ${opts.kind}: ${(err as Error).message}` };
  }
  if (p.manifest.name !== opts.kind) return { errorCode: 'unknown_kind', message: `the bundle is kind ${p.manifest.name}, the task names ${opts.kind}` };
  let inputValue: unknown;
  try {
    inputValue = decodeInput(opts.input);
  } catch (err) {
    return { errorCode: 'invalid_input', message: (err as Error).message };
  }
  const seed = await unitSeed(opts.codeHash, opts.input);
  const result = runWasmUnit({
    module: p.module,
    kindName: p.manifest.name,
    output: p.manifest.output,
    input: opts.input,
    inputValue,
    seed,
    maxOutputBytes: opts.maxOutputBytes ?? 64 * 1024 * 1024,
  });
  return 'output' in result ? result : { errorCode: 'exception', message: result.error };
}
