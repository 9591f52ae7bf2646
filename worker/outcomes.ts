/** What a task run comes to, from the agent's point of view: an output, or a coded error. */
import type { TaskErrorCode } from './errors.js';
import type { ThreadResult } from './task-thread.js';

export type RunOutcome =
  | { ok: true; output: Uint8Array; cpuMs: number }
  | { ok: false; errorCode: TaskErrorCode; message: string; cpuMs: number; unstarted?: true };

export function toOutcome(result: ThreadResult): RunOutcome {
  if ('errorCode' in result) return { ok: false, errorCode: result.errorCode, message: result.message, cpuMs: Math.round(result.cpuMs) };
  return { ok: true, output: result.output, cpuMs: Math.round(result.cpuMs) };
}

export function aborted(cpuMs: number): RunOutcome {
  return { ok: false, errorCode: 'aborted', message: 'task cancelled', cpuMs };
}

/** A thread call that threw: the thread ran out of heap, or the task code broke it. */
export function failure(err: unknown, cpuMs: number): RunOutcome {
  const e = err as Error & { code?: string };
  if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') return { ok: false, errorCode: 'out_of_memory', message: e.message, cpuMs };
  return { ok: false, errorCode: 'exception', message: e.message ?? String(err), cpuMs };
}
