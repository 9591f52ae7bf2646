/**
 * Leases on tasks out at workers. A periodic sweep expires the overdue ones; the scheduler then
 * re-issues their work units. Sweeping a map is O(outstanding tasks), which credit-based flow
 * control keeps to about two per worker thread.
 */
export interface Lease {
  wuId: number;
  worker: string;
  deadline: number;
}

export class Leases {
  #leases = new Map<number, Lease>();
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

  add(taskId: number, wuId: number, worker: string, deadline: number): void {
    this.#leases.set(taskId, { wuId, worker, deadline });
  }

  get(taskId: number): Lease | undefined {
    return this.#leases.get(taskId);
  }

  delete(taskId: number): void {
    this.#leases.delete(taskId);
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
