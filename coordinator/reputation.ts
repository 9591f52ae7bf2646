/**
 * Worker reputation, cached in memory and persisted through the store's grouped writes. Feeds
 * adaptive replication: a worker is trusted with single copies after `trustAfter` consecutive
 * valid results; one invalid result resets it.
 */
import type { Store, WorkerRow } from './store.js';

export type ReputationEvent = 'valid' | 'invalid' | 'error' | 'timeout';

export class Reputation {
  #store: Store;
  #cache = new Map<string, WorkerRow>();

  constructor(store: Store) {
    this.#store = store;
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
      if (event === 'invalid') { row.invalid++; row.consecutive_valid = 0; row.tasks_done++; row.cpu_ms += cpuMs; }
      if (event === 'error') { row.errors++; row.tasks_done++; row.cpu_ms += cpuMs; }
      if (event === 'timeout') row.timeouts++;
    }
    this.#store.defer(() => this.#store.bumpWorker(key, event, cpuMs));
  }
}
