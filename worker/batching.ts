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

/** An average that follows a slower task at once (batch less now) and a faster one slowly. */
export function smooth(prev: number | undefined, sample: number): number {
  if (prev === undefined || sample > prev) return sample;
  return prev * 0.9 + sample * 0.1;
}

/**
 * A task's input, alone in its buffer. Inputs decoded from a frame are views into the whole
 * frame; posting a view to a thread would copy the whole frame's buffer, not just the input.
 */
export function ownBytes(input: Uint8Array): Uint8Array {
  return input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input : input.slice();
}

/** Packs the inputs of a batch into one buffer, transferred (not copied) to the thread. */
export function packBatch(reqs: { kind: string; input: Uint8Array; codePath?: string }[]): ThreadBatch {
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
    batch: reqs.map((r) => ({ kind: r.kind, ...(r.codePath && { codePath: r.codePath }) })),
    inputs,
    ends,
  };
}
