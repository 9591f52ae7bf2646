/**
 * Sums per key over one event-loop tick, written once per key in that tick's transaction
 * (`GridStore.defer`) instead of once per event: batch counters (batch-counters.ts) and reputation
 * (reputation.ts) change on every task, and one row update each per task was 6 % and 2 % of the
 * coordinator's time on the echo benchmark (BENCHMARKS.md).
 */
import type { GridStore } from './store/index.js';

/** All a TickSums needs of the store: its grouped writes. */
type Deferring = Pick<GridStore, 'defer'>;

export class TickSums<V> {
  #store: Deferring;
  #make: () => V;
  #write: (key: string, sum: V) => void;
  #tick: Map<string, V> | undefined;

  constructor(store: Deferring, make: () => V, write: (key: string, sum: V) => void) {
    this.#store = store;
    this.#make = make;
    this.#write = write;
  }

  /**
   * This tick's sum for `key`, to add to. Call it outside deferred writes, never from one, so
   * that the sums land in the same commit as the events they count.
   */
  of(key: string): V {
    let tick = this.#tick;
    if (!tick) {
      const fresh = new Map<string, V>();
      tick = this.#tick = fresh;
      this.#store.defer(() => {
        if (this.#tick === fresh) this.#tick = undefined;
        for (const [k, sum] of fresh) this.#write(k, sum);
      });
      // Queued after the store's flush: if that transaction failed before reaching the write
      // above, later events must not pile up in a map nothing will write.
      setImmediate(() => {
        if (this.#tick === fresh) this.#tick = undefined;
      });
    }
    let sum = tick.get(key);
    if (sum === undefined) tick.set(key, (sum = this.#make()));
    return sum;
  }
}
