/** A batch's validated / issued counters, summed per tick and written once per commit (tick-sums.ts). */
import type { GridStore } from './store/index.js';
import { TickSums } from './tick-sums.js';

export class BatchCounters {
  #sums: TickSums<[number, number]>;

  constructor(store: GridStore) {
    this.#sums = new TickSums(store, () => [0, 0], (id, [validated, issued]) => store.bumpBatchCounts(id, validated, 0, issued));
  }

  add(batchId: string, validated: number, issued: number): void {
    const sum = this.#sums.of(batchId);
    sum[0] += validated;
    sum[1] += issued;
  }
}
