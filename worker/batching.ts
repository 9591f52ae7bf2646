/**
 * The runner's batching arithmetic and packing (see runner.ts): how many tasks of a kind share a
 * thread call, the moving average it is based on, and the one buffer their inputs travel in.
 */
import type { ThreadBatch } from './task-thread.js';

/** Tasks per thread call for a kind averaging `avgMs`: about `batchMs` of work, 1 when unknown. */
export function batchSize(avgMs: number | undefined, batchMs: number, maxBatch: number): number {
  if (avgMs === undefined || maxBatch <= 1) return 1;
  const n = Math.floor(batchMs / Math.max(avgMs, 0.001));
  return n < 2 ? 1 : Math.min(n, maxBatch);
}

/**
 * A moving average that halves the distance to each sample. A batch's sample is already the mean
 * of its tasks, so the jitter of a busy machine (a thread descheduled for a moment) moves batch
 * sizes only a little; a task too long to batch at all is handled apart, at once (runner.ts).
 */
export function smooth(prev: number | undefined, sample: number): number {
  return prev === undefined ? sample : (prev + sample) / 2;
}

/** Moves up to `size - 1` entries that `fits` from `queue` (in order) into a batch after `first`. */
export function takeBatch<T>(queue: T[], first: T, size: number, fits: (item: T) => boolean): T[] {
  const batch = [first];
  for (let i = 0; i < queue.length && batch.length < size; ) {
    if (fits(queue[i]!)) batch.push(queue.splice(i, 1)[0]!);
    else i++;
  }
  return batch;
}

/**
 * The mean and the longest of `ms` per key over one batch, with the first item of each key.
 * Entries with `ms` undefined (tasks that never ran: rejected input) are left out.
 */
export function timesByKey<T>(items: T[], ms: (number | undefined)[], key: (item: T) => string): { item: T; mean: number; max: number }[] {
  const sums = new Map<string, { item: T; total: number; n: number; max: number }>();
  items.forEach((item, i) => {
    const t = ms[i];
    if (t === undefined) return;
    const k = key(item);
    const sum = sums.get(k) ?? sums.set(k, { item, total: 0, n: 0, max: 0 }).get(k)!;
    sum.total += t;
    sum.n++;
    sum.max = Math.max(sum.max, t);
  });
  return [...sums.values()].map(({ item, total, n, max }) => ({ item, mean: total / n, max }));
}

/**
 * A task's input, alone in its buffer. Inputs decoded from a frame are views into the whole
 * frame; posting a view to a thread would copy the whole frame's buffer, not just the input.
 */
export function ownBytes(input: Uint8Array): Uint8Array {
  return input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input : input.slice();
}

/** Packs the inputs of a batch into one buffer, transferred (not copied) to the thread. */
export function packBatch(reqs: { kind: string; input: Uint8Array; codePath?: string; wasm?: boolean; codeHash?: string; memoryMb?: number }[]): ThreadBatch {
  let total = 0;
  for (const r of reqs) total += r.input.byteLength;
  const inputs = new Uint8Array(total);
  const ends = new Array<number>(reqs.length);
  let off = 0;
  for (let i = 0; i < reqs.length; i++) {
    inputs.set(reqs[i]!.input, off);
    off += reqs[i]!.input.byteLength;
    ends[i] = off;
  }
  return {
    batch: reqs.map((r) => ({ kind: r.kind, ...(r.codePath && { codePath: r.codePath }), ...(r.wasm && { wasm: true, codeHash: r.codeHash, memoryMb: r.memoryMb }) })),
    inputs,
    ends,
  };
}
