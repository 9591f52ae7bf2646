/**
 * Leases on tasks out at workers. A periodic sweep expires the overdue ones; the scheduler then
 * re-issues their work units. Sweeping a map is O(outstanding tasks), which credit-based flow
 * control keeps to about two per worker thread. A lease names the worker identity (whose result
 * counts) and, when issued in this run, the session (`holder`) it was sent to: one identity may
 * have several sessions (browser tabs share their volunteer id). Leases are counted per holder
 * and batch for the scheduler's work buffer (scheduler.ts), per holder for the session's credit
 * cap, and per network for the network's quota (networks.ts).
 *
 * Deadlines run on the process's monotonic clock (`monotonicNow`, ms), never the wall clock: an
 * operator or NTP stepping the wall clock must neither expire healthy workers' leases (a step
 * forward) nor keep a dead worker's leases out (a step back). The wall-clock deadline is only
 * stored and shown (tasks.deadline); see Scheduler for how a restart converts it.
 */
/** Milliseconds on the monotonic clock (an arbitrary origin per process): for deadlines only. */
export function monotonicNow(): number {
  return performance.now();
}

export interface Lease {
  wuId: number;
  batchId: string;
  worker: string;
  /** The worker's network (networks.ts) when the task was issued. */
  network: string;
  /** When the lease runs out, on the monotonic clock (`monotonicNow`, ms). */
  due: number;
  /**
   * Set for a task issued to a network not yet seen validated (networks.ts): when it was issued
   * (monotonic ms), for the scheduler's probation deadline. Recovered leases have none.
   */
  probationFrom?: number;
  /** The session the task was sent to; none for leases recovered after a restart. */
  holder?: object;
}

export class Leases {
  #leases = new Map<number, Lease>();
  /** Leases per holder and batch. */
  #held = new Map<object, Map<string, number>>();
  /** Leases per holder, all batches. */
  #heldTotal = new Map<object, number>();
  /** Leases per network. */
  #inNetwork = new Map<string, number>();
  #timer: NodeJS.Timeout;
  #onExpire: (taskId: number) => void;

  #overdue: (lease: Lease, now: number) => boolean;

  /**
   * `overdue` decides at each sweep whether a lease has run out, `now` being `monotonicNow()`
   * (default: it is due); the scheduler adds its probation deadline for unproven networks.
   */
  constructor(sweepMs: number, onExpire: (taskId: number) => void, overdue: (lease: Lease, now: number) => boolean = (l, now) => l.due <= now) {
    this.#onExpire = onExpire;
    this.#overdue = overdue;
    this.#timer = setInterval(() => this.sweep(monotonicNow()), sweepMs);
    this.#timer.unref();
  }

  get size(): number {
    return this.#leases.size;
  }

  /** `due` and `probationFrom` are monotonic ms (`monotonicNow`). */
  add(taskId: number, wuId: number, batchId: string, worker: string, network: string, due: number, holder?: object, probationFrom?: number): void {
    if (this.#leases.has(taskId)) this.delete(taskId);
    const lease: Lease = { wuId, batchId, worker, network, due };
    if (holder) lease.holder = holder;
    if (probationFrom !== undefined) lease.probationFrom = probationFrom;
    this.#leases.set(taskId, lease);
    this.#inNetwork.set(network, (this.#inNetwork.get(network) ?? 0) + 1);
    if (!holder) return;
    this.#heldTotal.set(holder, (this.#heldTotal.get(holder) ?? 0) + 1);
    let perBatch = this.#held.get(holder);
    if (!perBatch) this.#held.set(holder, (perBatch = new Map()));
    perBatch.set(batchId, (perBatch.get(batchId) ?? 0) + 1);
  }

  get(taskId: number): Lease | undefined {
    return this.#leases.get(taskId);
  }

  delete(taskId: number): void {
    const lease = this.#leases.get(taskId);
    if (!lease) return;
    this.#leases.delete(taskId);
    const inNetwork = (this.#inNetwork.get(lease.network) ?? 1) - 1;
    if (inNetwork > 0) this.#inNetwork.set(lease.network, inNetwork);
    else this.#inNetwork.delete(lease.network);
    if (lease.holder) {
      const total = (this.#heldTotal.get(lease.holder) ?? 1) - 1;
      if (total > 0) this.#heldTotal.set(lease.holder, total);
      else this.#heldTotal.delete(lease.holder);
    }
    const perBatch = lease.holder && this.#held.get(lease.holder);
    if (!perBatch) return;
    const n = (perBatch.get(lease.batchId) ?? 1) - 1;
    if (n > 0) perBatch.set(lease.batchId, n);
    else perBatch.delete(lease.batchId);
    if (perBatch.size === 0) this.#held.delete(lease.holder!);
  }

  /** Tasks of one batch leased through one session. */
  heldBy(holder: object, batchId: string): number {
    return this.#held.get(holder)?.get(batchId) ?? 0;
  }

  /** Tasks of all batches leased through one session. */
  heldTotal(holder: object): number {
    return this.#heldTotal.get(holder) ?? 0;
  }

  /** Tasks leased to the workers of one network. */
  heldIn(network: string): number {
    return this.#inNetwork.get(network) ?? 0;
  }

  /** Task ids leased through one session. */
  ofHolder(holder: object): number[] {
    const ids: number[] = [];
    for (const [id, lease] of this.#leases) if (lease.holder === holder) ids.push(id);
    return ids;
  }

  /** Expires what is overdue at `now` (monotonic ms). */
  sweep(now: number): void {
    const expired: number[] = [];
    for (const [id, lease] of this.#leases) if (this.#overdue(lease, now)) expired.push(id);
    for (const id of expired) this.#onExpire(id);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
