/**
 * One task of a job kind, run where the volunteer runs it: a node worker's thread or task
 * process (worker/task-thread.ts) and a browser's task Web Worker (browser-worker/task-worker.ts)
 * call these same two functions, so the grid can cross-check a browser's output against a
 * node's byte for byte. Isomorphic: the caller resolves the kind and gives its CPU clock.
 */
import { decodeInput, encodeOutput } from './codec.js';
import type { JobKind } from './types.js';
import { runWasmTask } from './wasm-task.js';

/**
 * A task's outcome. Errors come back as values: custom properties do not survive a thrown
 * error's trip across threads (structured clone, Comlink). `cpuMs`: CPU time of the running
 * thread where the runtime reads it, else wall time (a thread that does nothing else).
 */
export type TaskOutcome =
  | { output: Uint8Array; cpuMs: number }
  | { errorCode: 'exception' | 'unknown_kind' | 'invalid_input'; message: string; cpuMs: number };

/** CPU time of the calling thread, ms, or undefined where it cannot be read (browsers). */
export type CpuClock = () => number | undefined;

/** Time spent from now: by `cpu` where it reads, else by the wall clock. */
function stopwatch(cpu: CpuClock | undefined): () => number {
  const t0 = cpu?.();
  const started = performance.now();
  return () => {
    const t1 = t0 === undefined ? undefined : cpu!();
    return t0 !== undefined && t1 !== undefined ? t1 - t0 : performance.now() - started;
  };
}

/**
 * Decodes the input, validates it, runs the kind and encodes its output. `kind` undefined: no
 * usable kind of that name here (unknown_kind). An input that fails decoding or validation is
 * invalid_input (no CPU counted); a kind that throws is exception.
 *
 * @param cpu - the thread's CPU clock; omitted, the wall time is reported (a batch of tasks in
 *   one call reads the clock once and shares it out, worker/task-thread.ts).
 */
export function executeTask(kind: JobKind | undefined, kindName: string, input: Uint8Array, cpu?: CpuClock): TaskOutcome {
  if (!kind) return { errorCode: 'unknown_kind', message: `unknown job kind ${kindName}`, cpuMs: 0 };
  let value: unknown;
  try {
    value = kind.validateInput(decodeInput(input));
  } catch (err) {
    return { errorCode: 'invalid_input', message: (err as Error).message, cpuMs: 0 };
  }
  const elapsed = stopwatch(cpu);
  try {
    // Copied, not transferred: outputs are small, and a kind may keep reusing the buffer it returns a view of.
    return { output: encodeOutput(kind, kind.run(value)), cpuMs: elapsed() };
  } catch (err) {
    return { errorCode: 'exception', message: err instanceof Error ? err.message : String(err), cpuMs: elapsed() };
  }
}

/** A WASM kind's task: the module runs in the calling thread under the WASI shim (wasm-task.ts). */
export async function executeWasmTask(task: Parameters<typeof runWasmTask>[0], cpu?: CpuClock): Promise<TaskOutcome> {
  const elapsed = stopwatch(cpu);
  const outcome = await runWasmTask(task);
  const cpuMs = elapsed();
  return 'output' in outcome ? { output: outcome.output, cpuMs } : { ...outcome, cpuMs };
}
