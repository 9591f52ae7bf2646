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
  #tick: Map<string, WorkerTally> | undefined;

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
    this.#tally(key).add(event, cpuMs);
  }

  /**
   * This tick's events per worker, written as one UPDATE per worker in the tick's transaction
   * (one per task was 2 % of the coordinator's time on the echo benchmark). Reset after the
   * store's flush either way, so a failed transaction cannot strand them.
   */
  #tally(key: string): WorkerTally {
    let tick = this.#tick;
    if (!tick) {
      const fresh = new Map<string, WorkerTally>();
      tick = this.#tick = fresh;
      this.#store.defer(() => {
        if (this.#tick === fresh) this.#tick = undefined;
        for (const [k, t] of fresh) this.#store.bumpWorker(k, t);
      });
      setImmediate(() => {
        if (this.#tick === fresh) this.#tick = undefined;
      });
    }
    let t = tick.get(key);
    if (!t) tick.set(key, (t = new WorkerTally()));
    return t;
  }
}

/** Reputation events of one worker in one tick, in order where order matters. */
export class WorkerTally {
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
    this.tasksDone++;
    this.cpuMs += cpuMs;
    if (event === 'valid') {
      this.valid++;
      this.validSinceReset++;
    } else if (event === 'invalid') {
      this.invalid++;
      this.reset = true;
      this.validSinceReset = 0;
    } else this.errors++;
  }
}
