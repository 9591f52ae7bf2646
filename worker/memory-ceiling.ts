/**
 * The worker process's resident-memory ceiling (see runner.ts): heap limits do not cover
 * ArrayBuffers, so while tasks run the RSS is sampled, and crossing the ceiling stops every task
 * being watched. (Node 20 cannot tell which thread holds the memory, so all of them are stopped.)
 */
export class MemoryCeiling {
  readonly maxRssMb: number;
  #checkMs: number;
  #live = new Set<() => void>();
  #timer?: NodeJS.Timeout;
  /** After stopping tasks, freed memory takes a moment to leave the RSS: spare the next ones meanwhile. */
  #quietUntil = 0;

  constructor(options: { maxRssMb: number; checkMs: number }) {
    this.maxRssMb = options.maxRssMb;
    this.#checkMs = options.checkMs;
  }

  /** Calls `stop` if the ceiling is crossed before the returned function is called. */
  watch(stop: () => void): () => void {
    if (this.maxRssMb <= 0) return () => {};
    this.#live.add(stop);
    if (!this.#timer) {
      this.#timer = setInterval(() => {
        if (this.#live.size === 0) {
          this.close();
          return;
        }
        if (Date.now() < this.#quietUntil || process.memoryUsage.rss() <= this.maxRssMb * 2 ** 20) return;
        this.#quietUntil = Date.now() + 2000;
        for (const s of this.#live) s();
      }, this.#checkMs);
      this.#timer.unref();
    }
    return () => this.#live.delete(stop);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
