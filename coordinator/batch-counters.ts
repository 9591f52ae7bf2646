/**
 * The store's side of batches' counters (validated, failed, tasks issued, provisional), summed per
 * tick and written once per batch per commit (tick-sums.ts). Only ledgers add to them
 * (batch-ledger.ts), which keep the same counts in memory; one instance serves every batch of a
 * store, so a tick's counts cost one deferred write whatever the number of batches.
 */
import type { GridStore } from './store/index.js';
import { TickSums } from './tick-sums.js';

/** Changes to a batch's counters: [validated, failed, issued, provisional]. */
type Deltas = [number, number, number, number];

export class BatchCounters {
  #sums: TickSums<Deltas>;

  constructor(store: GridStore) {
    this.#sums = new TickSums(store, () => [0, 0, 0, 0], (id, [validated, failed, issued, provisional]) => {
      if (validated !== 0 || failed !== 0 || issued !== 0) store.bumpBatchCounts(id, validated, failed, issued);
      if (provisional !== 0) store.bumpProvisional(id, provisional);
    });
  }

  /** Adds to this tick's sums of `batchId`, written with the tick's other writes. */
  add(batchId: string, validated: number, failed: number, issued: number, provisional: number): void {
    const sum = this.#sums.of(batchId);
    sum[0] += validated;
    sum[1] += failed;
    sum[2] += issued;
    sum[3] += provisional;
  }
}
