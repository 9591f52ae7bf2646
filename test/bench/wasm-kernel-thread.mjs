// wasm-kernel.mjs's node worker thread: compiles the module once, runs it per message (through the
// grid's WASM runtime, or through wasm-glue.mjs as the browser side does), and measures this
// thread's own CPU time (/proc/thread-self/schedstat, ns) around each run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { runWasiCommand } from './wasm-glue.mjs';

const mod = await WebAssembly.compile(readFileSync(workerData.wasm));
// The grid's runtime, as a node worker's task thread runs a WASM kind's unit.
const { runWasmUnit } = await import(pathToFileURL(join(workerData.dist, 'jobs', 'wasm-run.js')).href);
const { encodeJson } = await import(pathToFileURL(join(workerData.dist, 'jobs', 'codec.js')).href);

function viaGrid(input) {
  const bytes = encodeJson(input); // canonical JSON bytes, as inputs travel
  const r = runWasmUnit({ module: mod, kindName: 'ising', output: 'json', input: bytes, inputValue: input, seed: new Uint8Array(32), maxOutputBytes: 1 << 20 });
  if ('error' in r) return { code: 1, stdout: '', stderr: r.error };
  return { code: 0, stdout: new TextDecoder().decode(r.output), stderr: '' };
}
const threadCpuNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);

parentPort.on('message', async ({ id, via, args, input }) => {
  try {
    const cpu0 = threadCpuNs();
    const t0 = performance.now();
    const r = via === 'grid' ? viaGrid(input) : await runWasiCommand(mod, ['ising', ...args]);
    const wallMs = performance.now() - t0;
    const cpuMs = (threadCpuNs() - cpu0) / 1e6;
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    parentPort.postMessage({ id, wallMs, cpuMs, stdout: r.stdout });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e) });
  }
});
