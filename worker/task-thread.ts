/**
 * Runs inside a Piscina worker thread: decodes a task's input, runs its job kind, encodes the
 * output; or does that for a batch of tiny tasks in one call (see runner.ts). Threads drop to the
 * lowest OS priority first, so a volunteer's own programs always win.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { decodeInput, encodeOutput } from '../jobs/codec.js';
import { getBuiltinKind } from '../jobs/registry.js';
import type { JobKind } from '../jobs/types.js';
import { runWasmTask } from '../jobs/wasm-task.js';

try {
  // On Linux this lowers the calling thread only, not the worker's protocol thread.
  // In a task process (task-processes.ts) there is no workerData: the niceness comes by the environment.
  setPriority((workerData as { niceness?: number } | undefined)?.niceness ?? (process.env.SWARMGRID_TASK_NICE ? Number(process.env.SWARMGRID_TASK_NICE) : 19));
} catch {
  // Not permitted on this platform: run at normal priority.
}

export interface ThreadTask {
  kind: string;
  input: Uint8Array;
  /** Path of a verified custom-kind module in the code cache. */
  codePath?: string;
  /** The bundle at codePath is a WASM kind's (jobs/wasm-bundle.ts), run by jobs/wasm-task.ts. */
  wasm?: boolean;
  /** With `wasm`: the bundle's SHA-256, hex (seeds the unit's random_get). */
  codeHash?: string;
  /** With `wasm`: the task's memory limit in MB (0 = the manifest's alone). */
  memoryMb?: number;
}

/**
 * Several tasks in one call: their inputs packed back to back in one transferred buffer,
 * `ends[i]` the end offset of task i's input.
 */
export interface ThreadBatch {
  batch: Omit<ThreadTask, 'input'>[];
  inputs: Uint8Array;
  ends: number[];
}

/** Errors come back as values: custom properties do not survive a thrown error's trip across threads. */
export type ThreadResult =
  | { output: Uint8Array; cpuMs: number }
  | { errorCode: 'exception' | 'unknown_kind' | 'invalid_input'; message: string; cpuMs: number };

const customKinds = new Map<string, Promise<JobKind>>();

async function resolveKind(task: ThreadTask): Promise<JobKind | undefined> {
  if (task.codePath) {
    let kind = customKinds.get(task.codePath);
    if (!kind) {
      kind = import(pathToFileURL(task.codePath).href).then((m: { default: JobKind }) => m.default);
      customKinds.set(task.codePath, kind);
    }
    const k = await kind;
    // The bundle is verified, but it must also be the kind the task names, with the members we call.
    const usable = k && typeof k === 'object' && k.name === task.kind && typeof k.run === 'function' && typeof k.validateInput === 'function';
    return usable ? k : undefined;
  }
  return getBuiltinKind(task.kind);
}

export default async function run(call: ThreadTask | ThreadBatch): Promise<ThreadResult | ThreadResult[]> {
  if (!('batch' in call)) return runTask(call);
  const results: ThreadResult[] = new Array<ThreadResult>(call.batch.length);
  let start = 0;
  for (let i = 0; i < call.batch.length; i++) {
    const end = call.ends[i]!;
    results[i] = await runTask({ ...call.batch[i]!, input: call.inputs.subarray(start, end) });
    start = end;
  }
  return results;
}

async function runTask(task: ThreadTask): Promise<ThreadResult> {
  if (task.wasm && task.codePath) return runWasm(task, task.codePath);
  const kind = await resolveKind(task);
  if (!kind) return { errorCode: 'unknown_kind', message: `unknown job kind ${task.kind}`, cpuMs: 0 };
  let input: unknown;
  try {
    input = kind.validateInput(decodeInput(task.input));
  } catch (err) {
    return { errorCode: 'invalid_input', message: (err as Error).message, cpuMs: 0 };
  }
  // Thread CPU time where Node has it (23.9+); wall time in a busy thread otherwise.
  const cpu = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  const t0 = cpu ? cpu() : undefined;
  const started = performance.now();
  const elapsed = () => {
    const t1 = cpu ? cpu() : undefined;
    return t0 && t1 ? (t1.user + t1.system - t0.user - t0.system) / 1000 : performance.now() - started;
  };
  try {
    const output = encodeOutput(kind, kind.run(input));
    return { output, cpuMs: elapsed() };
  } catch (err) {
    return { errorCode: 'exception', message: err instanceof Error ? err.message : String(err), cpuMs: elapsed() };
  }
}

/** A WASM kind's task: the module runs in this thread under the WASI shim (jobs/wasm-task.ts). */
async function runWasm(task: ThreadTask, codePath: string): Promise<ThreadResult> {
  const cpu = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  const t0 = cpu ? cpu() : undefined;
  const started = performance.now();
  const outcome = await runWasmTask({
    kind: task.kind,
    codeHash: Buffer.from(task.codeHash ?? '', 'hex'),
    bundle: () => readFileSync(codePath),
    input: task.input,
    memoryMb: task.memoryMb ?? 0,
  });
  const t1 = cpu ? cpu() : undefined;
  const cpuMs = t0 && t1 ? (t1.user + t1.system - t0.user - t0.system) / 1000 : performance.now() - started;
  return 'output' in outcome ? { output: outcome.output, cpuMs } : { ...outcome, cpuMs };
}
