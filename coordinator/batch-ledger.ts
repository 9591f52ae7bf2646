/**
 * A batch's ledger: the one owner of what the coordinator knows of a live batch. It holds the
 * batch's state (every one of them, `stalled` and `finishing` included) and is its only writer,
 * storing each move in the same transaction as the writes that go with it, so that memory and the
 * row never disagree (states.ts maps the states onto the stored ones); its counters, kept in
 * memory and fed to the store's per-tick sums in one place; its hot units and their ready queue
 * (hot-units.ts, which it extends); its rate. Others learn what happens to the batch from its
 * typed events (ledger-events.ts): the batch manager closes it on `decided`, the scheduler counts
 * `unitDecided` for the metrics.
 *
 * A ledger lives from submission (or a restart) until its batch reaches a final state; the
 * scheduler dispatches from the ledgers of loading and running batches, and verdicts.ts records
 * its decisions on them.
 */
import type { JobKind } from '../jobs/types.js';
import type { BatchCounters } from './batch-counters.js';
import type { HotUnit } from './hot-unit.js';
import { HotUnits } from './hot-units.js';
import type { ResolvedPolicy } from './policy.js';
import { RateMeter } from '../proto/rate-meter.js';
import { assertBatchTransition, type BatchState, type FinalBatchState, isFinalBatchState, storedBatchState } from './states.js';
import type { GridStore } from './store/index.js';
import type { Agree } from './validator.js';
import { taskMsAfter } from './work-buffer.js';

export type { LedgerListener } from './ledger-events.js';

/** What running a batch's tasks takes: its job kind, from the catalogue. */
export interface LedgerJob {
  kind: JobKind;
  /** Set for custom kinds: the code bundle workers must fetch. */
  codeHash: Buffer | null;
  agree: Agree;
}

export interface LedgerInit {
  id: string;
  policy: ResolvedPolicy;
  /** Wall ms. */
  createdAt: number;
  /** The batch's job kind; null when it is missing here, and the batch can only be stalled (`stall`). */
  job: LedgerJob | null;
  /** `loading`: just submitted; `running`: recovered after a restart, with its stored `counts`. */
  state: 'loading' | 'running';
  counts?: { total: number; validated: number; failed: number };
}

/** The text of a stalled batch's `error`, before its reason (shown in its status). */
export const STALLED = 'stalled: ';

export class BatchLedger extends HotUnits {
  readonly id: string;
  readonly policy: ResolvedPolicy;
  readonly createdAt: number;
  /** Units decided over the last minute: the rate and ETA the API shows. */
  readonly rate = new RateMeter();
  /** The feeder's position (feeder.ts): highest work-unit id loaded from the store so far. */
  cursor = 0;
  /** The feeder's: no pending unit past the cursor (until more are ingested). */
  exhausted = false;
  #store: GridStore;
  #counters: BatchCounters;
  #job: LedgerJob | null;
  #state: BatchState;
  #total = 0;
  #validated = 0;
  #failed = 0;
  #taskMs: number | undefined;

  constructor(store: GridStore, counters: BatchCounters, init: LedgerInit) {
    super(store);
    this.#store = store;
    this.#counters = counters;
    this.id = init.id;
    this.policy = init.policy;
    this.createdAt = init.createdAt;
    this.#job = init.job;
    this.#state = init.state;
    if (init.counts) {
      this.#total = init.counts.total;
      this.#validated = init.counts.validated;
      this.#failed = init.counts.failed;
    }
  }

  // ---- what the batch is -----------------------------------------------------------------------

  get #runnable(): LedgerJob {
    if (!this.#job) throw new Error(`batch ${this.id} is stalled: its job kind is missing`);
    return this.#job;
  }

  get kind(): JobKind {
    return this.#runnable.kind;
  }

  get codeHash(): Buffer | null {
    return this.#runnable.codeHash;
  }

  get agree(): Agree {
    return this.#runnable.agree;
  }

  get state(): BatchState {
    return this.#state;
  }

  /** Work units stored (0 while loading). */
  get total(): number {
    return this.#total;
  }

  /** Units accepted, single copies included (`provisional` in the row). */
  get validated(): number {
    return this.#validated;
  }

  get failed(): number {
    return this.#failed;
  }

  /** Every unit is decided. */
  get complete(): boolean {
    return this.#validated + this.#failed >= this.#total;
  }

  /** How the batch ends once every unit is decided. */
  get outcome(): 'completed' | 'failed' {
    return this.#failed > 0 ? 'failed' : 'completed';
  }

  /** Moving average of the time its tasks take at workers, in ms (unknown until a validated unit). */
  get taskMs(): number | undefined {
    return this.#taskMs;
  }

  /** Notes a validated unit's task time (work-buffer.ts). */
  noteTaskMs(cpuMs: number): void {
    this.#taskMs = taskMsAfter(this.policy, this.#taskMs, cpuMs);
  }

  // ---- moves: each asserted (states.ts), stored with the writes that go with it, then announced

  /**
   * Every input is stored: loading → running with its `total`. Emits `decided` at once when every
   * unit already is. Throws a coded storage fault with nothing changed.
   */
  start(total: number): void {
    this.#move('running', () => this.#store.setBatchTotal(this.id, total), () => {
      this.#total = total;
    });
    if (this.complete) this.emit('decided', this);
  }

  /** At a restart that finds its job kind missing: not scheduled, `stalled: reason` in its status. */
  stall(reason: string): void {
    this.#move('stalled', () => this.#store.setBatchError(this.id, STALLED + reason));
  }

  /** Every unit decided and no audit pending: no more dispatching or reopening; the artifact is next. */
  beginFinishing(): void {
    this.#move('finishing');
  }

  /** The artifact is in: finishing → completed | failed, stored with `alsoStore`'s writes (the artifact). */
  finish(alsoStore?: () => void): void {
    this.#move(this.outcome, alsoStore);
  }

  /** Finalisation failed (an artifact too big to store, say): finishing → failed, with `error`. */
  failFinishing(error: string): void {
    this.#move('failed', undefined, undefined, error);
  }

  /** Cancelled: stored with `alsoStore`'s writes (its pending units); a stalled batch's note is cleared. */
  cancel(alsoStore?: () => void): void {
    const wasStalled = this.#state === 'stalled';
    this.#move('cancelled', () => {
      alsoStore?.();
      if (wasStalled) this.#store.setBatchError(this.id, null);
    });
  }

  /**
   * The one place a batch's state changes. The row is written in one transaction with `write`
   * (when the stored state changes, or there is something to write), now: moves are rare, and
   * whoever moves a batch acts on the stored row next. Memory changes only once it is stored.
   */
  #move(to: BatchState, write?: () => void, apply?: () => void, error: string | null = null): void {
    const from = this.#state;
    assertBatchTransition(this.id, from, to);
    const stored = storedBatchState(to);
    if (write || stored !== storedBatchState(from)) {
      this.#store.transaction(() => {
        write?.();
        if (stored !== storedBatchState(from)) this.#store.setBatchState(this.id, stored, error);
      });
    }
    apply?.();
    this.#state = to;
    this.emit('stateChanged', this, to, from);
    if (isFinalBatchState(to)) this.emit('finished', this, to as FinalBatchState);
  }

  // ---- counters: memory and the store's per-tick sums, written here only ----------------------

  /** A task of the batch was issued. */
  taskIssued(): void {
    this.#counters.add(this.id, 0, 0, 1, 0);
  }

  /**
   * A unit is decided: it leaves the hot set and the ready queue (kept out of the feeder's reach
   * until the decision commits) and is counted; `single`: accepted on one unchecked copy
   * (adaptive replication), counted provisional too. Emits `unitDecided`, then `decided` when it
   * was the last one of a running batch.
   */
  decide(unit: HotUnit, outcome: 'validated' | 'failed', single = false): void {
    this.settle(unit);
    if (outcome === 'validated') {
      this.#validated++;
      this.#counters.add(this.id, 1, 0, 0, single ? 1 : 0);
    } else {
      this.#failed++;
      this.#counters.add(this.id, 0, 1, 0, 0);
    }
    this.rate.note(Date.now(), this.#validated + this.#failed);
    this.emit('unitDecided', this, unit, outcome);
    if (this.#state === 'running' && this.complete) this.emit('decided', this);
  }

  /** A unit accepted on a single copy was reopened (its worker caught), stored with this tick's writes. */
  reopened(): void {
    this.#validated--;
    this.#counters.add(this.id, -1, 0, 0, -1);
  }

  /**
   * Single copies reopened by the closing audit: `reopen` (the units' writes) and the counters in
   * one transaction, now, since their re-check reads them back at once. Throws a coded storage
   * fault with nothing changed.
   */
  reopenNow(wuIds: readonly number[], reopen: (wuId: number) => void): void {
    this.#store.transaction(() => {
      for (const id of wuIds) reopen(id);
      this.#store.bumpBatchCounts(this.id, -wuIds.length, 0, 0);
      this.#store.bumpProvisional(this.id, -wuIds.length);
    });
    this.#validated -= wuIds.length;
  }
}
