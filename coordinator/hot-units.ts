/**
 * The part of a batch's ledger (batch-ledger.ts) that holds its hot units (loaded from the store,
 * undecided) and their ready queue, which the scheduler scans and the feeder refills.
 */
import type { HotUnit } from './hot-unit.js';
import { LedgerEmitter } from './ledger-events.js';
import type { GridStore } from './store/index.js';

export class HotUnits extends LedgerEmitter {
  #store: GridStore;
  #hot = new Map<number, HotUnit>();
  /** Units with want > 0, re-issues first. */
  #ready: HotUnit[] = [];
  /** Units decided in this tick: the store still says 'pending' until the commit. */
  #settling = new Set<number>();

  constructor(store: GridStore) {
    super();
    this.#store = store;
  }

  /** Undecided units in memory, by id. */
  get hot(): ReadonlyMap<number, HotUnit> {
    return this.#hot;
  }

  /** Units that want tasks, re-issues first: the scheduler scans it. */
  get ready(): readonly HotUnit[] {
    return this.#ready;
  }

  /** Takes a unit loaded from the store into memory. */
  hold(unit: HotUnit): void {
    this.#hot.set(unit.id, unit);
  }

  /** Puts a unit in the ready queue: at the front when it was already started (finish what's begun). */
  enqueue(unit: HotUnit): void {
    if (unit.queued || unit.done || unit.want <= 0) return;
    unit.queued = true;
    if (unit.issued > 0) this.#ready.unshift(unit);
    else this.#ready.push(unit);
  }

  /** Moves a queued unit to the front (a task of it handed back: a re-issue). */
  toFront(unit: HotUnit): void {
    if (!unit.queued) return;
    this.removeFromReady(unit);
    this.#ready.unshift(unit);
    unit.queued = true;
  }

  dequeueAt(index: number): void {
    const [unit] = this.#ready.splice(index, 1);
    if (unit) unit.queued = false;
  }

  removeFromReady(unit: HotUnit): void {
    if (!unit.queued) return;
    const i = this.#ready.indexOf(unit);
    if (i >= 0) this.#ready.splice(i, 1);
    unit.queued = false;
  }

  /** Whether a unit was decided in this tick (its row still says pending). */
  isSettling(wuId: number): boolean {
    return this.#settling.has(wuId);
  }

  /** A decided unit leaves memory and the ready queue. */
  protected settle(unit: HotUnit): void {
    unit.done = true;
    // Until the decision is committed, the store would hand the unit back as pending to a
    // refill or a late result in this same tick: keep it out of reach till then.
    this.#settling.add(unit.id);
    this.#store.afterCommit(() => this.#settling.delete(unit.id));
    this.removeFromReady(unit);
    this.#hot.delete(unit.id);
  }
}
