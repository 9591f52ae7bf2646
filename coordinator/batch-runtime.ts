/**
 * What the scheduler keeps in memory per active batch: its policy and kind, the hot units, and
 * the ready list the feeder refills from the store in chunks.
 */
import type { JobKind } from '../jobs/types.js';
import type { HotUnit } from './hot-unit.js';
import type { ResolvedPolicy } from './policy.js';
import type { RateMeter } from '../proto/rate-meter.js';
import type { BatchState } from './states.js';
import type { Agree } from './validator.js';

export interface BatchRuntime {
  id: string;
  kind: JobKind;
  /** Set for custom kinds: the code bundle workers must fetch. */
  codeHash: Buffer | null;
  policy: ResolvedPolicy;
  agree: Agree;
  state: BatchState;
  createdAt: number;
  total: number;
  validated: number;
  failed: number;
  /** Highest work-unit id loaded from the store so far. */
  cursor: number;
  /** No pending unit past the cursor (until more are ingested). */
  exhausted: boolean;
  hot: Map<number, HotUnit>;
  /** Units with want > 0, re-issues first. */
  ready: HotUnit[];
  /** Moving average of the time its tasks take at workers, in ms (unknown until a result). */
  taskMs?: number;
  /** Units decided over the last minute: the rate and ETA the API shows. */
  rate: RateMeter;
}

/** Puts a unit in the ready list: at the front when it was already started (finish what's begun). */
export function enqueue(batch: BatchRuntime, unit: HotUnit): void {
  if (unit.queued || unit.done || unit.want <= 0) return;
  unit.queued = true;
  if (unit.issued > 0) batch.ready.unshift(unit);
  else batch.ready.push(unit);
}

export function dequeueAt(batch: BatchRuntime, index: number): void {
  const [unit] = batch.ready.splice(index, 1);
  if (unit) unit.queued = false;
}

export function removeFromReady(batch: BatchRuntime, unit: HotUnit): void {
  if (!unit.queued) return;
  const i = batch.ready.indexOf(unit);
  if (i >= 0) batch.ready.splice(i, 1);
  unit.queued = false;
}
