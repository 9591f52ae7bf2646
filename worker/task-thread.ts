/**
 * Runs inside a Piscina worker thread: decodes a task's input, runs its job kind, encodes the
 * output; or does that for a batch of tiny tasks in one call (see runner.ts). Threads drop to the
 * lowest OS priority first, so a volunteer's own programs always win.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { executeTask, executeWasmTask, type TaskOutcome } from '../jobs/execute-task.js';
import { getBuiltinKind } from '../jobs/registry.js';
import type { JobKind } from '../jobs/types.js';

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
export type ThreadResult = TaskOutcome;

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
  // The thread's CPU time is read once per batch (a read of /proc costs ~15 µs, more than a
  // small task) and shared out in proportion to each task's time.
  const cpu0 = threadCpuMs();
  let start = 0;
  for (let i = 0; i < call.batch.length; i++) {
    const end = call.ends[i]!;
    results[i] = await runTask({ ...call.batch[i]!, input: call.inputs.subarray(start, end) }, false);
    start = end;
  }
  const cpu1 = threadCpuMs();
  const wall = results.reduce((n, r) => n + r.cpuMs, 0);
  if (cpu0 !== undefined && cpu1 !== undefined && wall > 0) for (const r of results) r.cpuMs *= (cpu1 - cpu0) / wall;
  return results;
}

/**
 * CPU time of the calling thread in ms: Node's threadCpuUsage (23.9+), else Linux's
 * /proc/thread-self/stat (utime + stime, in 10 ms ticks), else undefined. Only a task's own
 * thread is counted: what the volunteer's "CPU given" and the Result's cpu_ms report.
 */
function threadCpuMs(): number | undefined {
  const usage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (usage) {
    const u = usage();
    return (u.user + u.system) / 1000;
  }
  if (!procStat) return undefined;
  try {
    // Fields after the command name's ")": state, ppid, …, utime (11th), stime (12th).
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on every Linux
  } catch {
    procStat = false;
    return undefined;
  }
}
/** Whether /proc/thread-self/stat can be read (Linux). */
let procStat = existsSync('/proc/thread-self/stat');

/**
 * One task (jobs/execute-task.ts, the browser's task worker runs the same); `measure`: its cpuMs
 * is the thread's CPU time, else its wall time (a batch shares out the thread's).
 */
async function runTask(task: ThreadTask, measure = true): Promise<ThreadResult> {
  const cpu = measure ? threadCpuMs : undefined;
  if (task.wasm && task.codePath) {
    const codePath = task.codePath;
    return executeWasmTask({
      kind: task.kind,
      codeHash: Buffer.from(task.codeHash ?? '', 'hex'),
      bundle: () => readFileSync(codePath),
      input: task.input,
      memoryMb: task.memoryMb ?? 0,
    }, cpu);
  }
  return executeTask(await resolveKind(task), task.kind, task.input, cpu);
}
