/**
 * A batch's validated / issued counters, summed over one tick and written once per batch in that
 * tick's transaction: one UPDATE per batch per commit instead of two per task (they were 6 % of
 * the coordinator's time per task on the echo benchmark, BENCHMARKS.md).
 */
import type { Store } from './store.js';

export class BatchCounters {
  #store: Store;
  #tick: Map<string, [number, number]> | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Called outside deferred writes, never from one, so that the sums land in the same commit. */
  add(batchId: string, validated: number, issued: number): void {
    let acc = this.#tick;
    if (!acc) {
      const fresh = new Map<string, [number, number]>();
      acc = this.#tick = fresh;
      this.#store.defer(() => {
        if (this.#tick === fresh) this.#tick = undefined;
        for (const [id, [v, i]] of fresh) this.#store.bumpBatchCounts(id, v, 0, i);
      });
      // Queued after the store's flush: if that transaction failed before reaching the write
      // above, later counts must not pile up in a map nothing will write.
      setImmediate(() => {
        if (this.#tick === fresh) this.#tick = undefined;
      });
    }
    const c = acc.get(batchId);
    if (c) {
      c[0] += validated;
      c[1] += issued;
    } else acc.set(batchId, [validated, issued]);
  }
}
