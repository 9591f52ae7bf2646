// wasm-kernel.mjs's node worker thread: compiles the module once, runs it per message, and measures
// this thread's own CPU time (/proc/thread-self/schedstat, ns) around each run.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { runWasiCommand } from './wasm-glue.mjs';

const mod = await WebAssembly.compile(readFileSync(workerData.wasm));
const threadCpuNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);

parentPort.on('message', async ({ id, args }) => {
  try {
    const cpu0 = threadCpuNs();
    const t0 = performance.now();
    const r = await runWasiCommand(mod, ['ising', ...args]);
    const wallMs = performance.now() - t0;
    const cpuMs = (threadCpuNs() - cpu0) / 1e6;
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    parentPort.postMessage({ id, wallMs, cpuMs, stdout: r.stdout });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e) });
  }
});
