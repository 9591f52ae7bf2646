/**
 * The queue inside a task Web Worker: one task runs, the ones sent after it wait here, so that the
 * next starts as soon as one ends instead of a round trip to the agent's worker later (about 3 ms
 * a task, as long as half a short π task; docs/BROWSER.md, Performance). The pool
 * (browser-worker/pool.ts) keeps at most one task waiting per worker.
 *
 * A waiting task can be withdrawn (its task was cancelled): it then never runs. A running one
 * cannot be stopped from inside (a worker runs one thing at a time); the pool ends the worker.
 * Between two tasks the queue yields to the worker's event loop once, so that a withdrawal
 * already posted when a task ends is read before the next task starts.
 */
export type QueuedJob<R> = () => R | Promise<R>;

interface Waiting<R> {
  id: number;
  job: QueuedJob<R>;
  /** `null`: withdrawn before it ran. */
  resolve: (result: R | null) => void;
  reject: (err: unknown) => void;
}

export class TaskQueue<R> {
  #waiting: Waiting<R>[] = [];
  #busy = false;
  #scheduled = false;
  /**
   * Wakes the queue as a message to itself: a macrotask behind the messages already received
   * (setTimeout(0) would do too, but is clamped to 4 ms once nested).
   */
  #wake = new MessageChannel();

  constructor() {
    this.#wake.port1.onmessage = () => {
      this.#scheduled = false;
      void this.#next();
    };
  }

  /** Tasks waiting, the running one not counted. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `job` after the tasks before it; resolves with its result, or `null` if withdrawn first. */
  add(id: number, job: QueuedJob<R>): Promise<R | null> {
    return new Promise<R | null>((resolve, reject) => {
      this.#waiting.push({ id, job, resolve, reject });
      this.#schedule();
    });
  }

  /** Takes a waiting task out: true if it was waiting (it will not run), false if running or done. */
  withdraw(id: number): boolean {
    const i = this.#waiting.findIndex((w) => w.id === id);
    if (i < 0) return false;
    const [gone] = this.#waiting.splice(i, 1);
    gone!.resolve(null);
    return true;
  }

  #schedule(): void {
    if (this.#busy || this.#scheduled || this.#waiting.length === 0) return;
    this.#scheduled = true;
    this.#wake.port2.postMessage(null);
  }

  async #next(): Promise<void> {
    if (this.#busy) return;
    const task = this.#waiting.shift();
    if (!task) return;
    this.#busy = true;
    try {
      task.resolve(await task.job());
    } catch (err) {
      task.reject(err);
    } finally {
      this.#busy = false;
      // The result is posted by the caller's continuation (a microtask), before this wake-up.
      this.#schedule();
    }
  }
}
