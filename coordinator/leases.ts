/**
 * Leases on tasks out at workers. A periodic sweep expires the overdue ones; the scheduler then
 * re-issues their work units. Sweeping a map is O(outstanding tasks), which credit-based flow
 * control keeps to about two per worker thread. Leases are also counted per worker and batch:
 * the scheduler's work buffer (scheduler.ts) caps them.
 */
export interface Lease {
  wuId: number;
  batchId: string;
  worker: string;
  deadline: number;
}

export class Leases {
  #leases = new Map<number, Lease>();
  /** Leases per worker and batch (key: worker NUL batch). */
  #held = new Map<string, number>();
  #timer: NodeJS.Timeout;
  #onExpire: (taskId: number) => void;

  constructor(sweepMs: number, onExpire: (taskId: number) => void) {
    this.#onExpire = onExpire;
    this.#timer = setInterval(() => this.sweep(Date.now()), sweepMs);
    this.#timer.unref();
  }

  get size(): number {
    return this.#leases.size;
  }

  add(taskId: number, wuId: number, batchId: string, worker: string, deadline: number): void {
    if (this.#leases.has(taskId)) this.delete(taskId);
    this.#leases.set(taskId, { wuId, batchId, worker, deadline });
    const k = `${worker}\0${batchId}`;
    this.#held.set(k, (this.#held.get(k) ?? 0) + 1);
  }

  get(taskId: number): Lease | undefined {
    return this.#leases.get(taskId);
  }

  delete(taskId: number): void {
    const lease = this.#leases.get(taskId);
    if (!lease) return;
    this.#leases.delete(taskId);
    const k = `${lease.worker}\0${lease.batchId}`;
    const n = (this.#held.get(k) ?? 1) - 1;
    if (n > 0) this.#held.set(k, n);
    else this.#held.delete(k);
  }

  /** Tasks of one batch leased to one worker. */
  heldBy(worker: string, batchId: string): number {
    return this.#held.get(`${worker}\0${batchId}`) ?? 0;
  }

  /** Task ids leased to one worker. */
  ofWorker(worker: string): number[] {
    const ids: number[] = [];
    for (const [id, lease] of this.#leases) if (lease.worker === worker) ids.push(id);
    return ids;
  }

  sweep(now: number): void {
    const expired: number[] = [];
    for (const [id, lease] of this.#leases) if (lease.deadline <= now) expired.push(id);
    for (const id of expired) this.#onExpire(id);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
