/**
 * The work buffer: how many of a batch's tasks one connection may hold. A worker asks for work by
 * credit, a count of tasks sized by how long *its* last tasks took; one coming from tiny tasks
 * with a large credit must not take a whole batch of long ones while others sit idle. So a
 * connection holds at most `bufferMs` of the batch's tasks per thread (at least 2), by the time
 * its tasks take at workers — 2 per thread until the first validated result says.
 */
import type { ResolvedPolicy } from './policy.js';

/** Most tasks of a batch whose tasks take `batch.taskMs` a connection with `threads` threads may hold. */
export function bufferSize(batch: { readonly taskMs: number | undefined }, threads: number, bufferMs: number): number {
  const perThread = batch.taskMs === undefined ? 2 : Math.max(2, Math.ceil(bufferMs / Math.max(batch.taskMs, 0.001)));
  return Math.max(1, threads) * perThread;
}

/**
 * A batch's task time after a validated unit's, halfway to each sample: a batch whose tasks turn
 * out long shrinks its buffer at once. The sample is the smallest CPU time its agreeing votes
 * claimed: errors and results nobody agreed with say nothing, so a worker cannot stretch the
 * estimate (and with it the probation of its network's tasks, scheduler.ts) by claiming more than
 * an honest volunteer did. It is at most the batch's time limit (or its lease).
 */
export function taskMsAfter(policy: ResolvedPolicy, taskMs: number | undefined, cpuMs: number): number {
  const ceiling = (policy.timeout > 0 ? policy.timeout : policy.lease) * 1000;
  const ms = Math.min(Math.max(0, cpuMs || 0), ceiling);
  return taskMs === undefined ? ms : (taskMs + ms) / 2;
}
