/**
 * Worker reputation, cached in memory and persisted through the store's grouped writes. Feeds
 * adaptive replication: a worker is trusted with single copies after `trustAfter` consecutive
 * valid results; one invalid result resets it.
 */
import type { GridStore, WorkerRow, WorkerTallyRow } from './store/index.js';
import { TickSums } from './tick-sums.js';

/**
 * What a worker did. CPU time counts for 'valid' only: a wrong result or an error earns nothing.
 * 'distrust' resets the run of consecutive valid results without counting anything against the
 * worker (a sibling in its network was caught lying).
 */
export type ReputationEvent = 'valid' | 'invalid' | 'error' | 'timeout' | 'distrust';

export class Reputation {
  #store: GridStore;
  #cache = new Map<string, WorkerRow>();
  #tally: TickSums<WorkerTally>;

  constructor(store: GridStore) {
    this.#store = store;
    this.#tally = new TickSums(store, () => new WorkerTally(), (key, t) => store.bumpWorker(key, t));
  }

  #row(key: string): WorkerRow | undefined {
    let row = this.#cache.get(key);
    if (!row) {
      row = this.#store.getWorker(key);
      if (row) {
        // Bounded: browser identities cost nothing to mint. Oldest entries go first.
        if (this.#cache.size >= 10_000) this.#cache.delete(this.#cache.keys().next().value!);
        this.#cache.set(key, row);
      }
    }
    return row;
  }

  /** Records that a worker connected (creates its row). */
  seen(key: string, runtime: string, address: string): void {
    this.#cache.delete(key);
    this.#store.defer(() => this.#store.touchWorker(key, runtime, address));
    this.#store.afterCommit(() => this.#row(key));
  }

  consecutiveValid(key: string): number {
    return this.#row(key)?.consecutive_valid ?? 0;
  }

  record(key: string, event: ReputationEvent, cpuMs = 0): void {
    const row = this.#row(key);
    if (row) {
      if (event === 'valid') { row.valid++; row.consecutive_valid++; row.tasks_done++; row.cpu_ms += cpuMs; }
      if (event === 'invalid') { row.invalid++; row.consecutive_valid = 0; row.tasks_done++; }
      if (event === 'error') { row.errors++; row.tasks_done++; }
      if (event === 'timeout') row.timeouts++;
      if (event === 'distrust') row.consecutive_valid = 0;
    }
    // The store gets this tick's events as one write per worker (tick-sums.ts).
    this.#tally.of(key).add(event, cpuMs);
  }
}

/** Reputation events of one worker in one tick, in order where order matters. */
export class WorkerTally implements WorkerTallyRow {
  valid = 0;
  invalid = 0;
  errors = 0;
  timeouts = 0;
  tasksDone = 0;
  cpuMs = 0;
  /** Valid results since the last invalid one in this tick; `reset` once an invalid one came. */
  validSinceReset = 0;
  reset = false;

  add(event: ReputationEvent, cpuMs: number): void {
    if (event === 'timeout') {
      this.timeouts++;
      return;
    }
    if (event === 'distrust') {
      this.reset = true;
      this.validSinceReset = 0;
      return;
    }
    this.tasksDone++;
    if (event === 'valid') {
      this.valid++;
      this.validSinceReset++;
      this.cpuMs += cpuMs;
    } else if (event === 'invalid') {
      this.invalid++;
      this.reset = true;
      this.validSinceReset = 0;
    } else this.errors++;
  }
}
