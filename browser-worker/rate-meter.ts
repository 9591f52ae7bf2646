/**
 * Tasks per second over a sliding window: what "live rate" on the page means. Completions are
 * counted per second bucket, so memory stays fixed however fast tasks finish.
 */
export class RateMeter {
  readonly windowSeconds: number;
  #buckets: number[];
  #bucketSecond = 0;
  #startedAt = 0;

  constructor(windowSeconds = 10) {
    this.windowSeconds = windowSeconds;
    this.#buckets = new Array<number>(windowSeconds).fill(0);
  }

  record(now = Date.now()): void {
    this.#advance(now);
    if (this.#startedAt === 0) this.#startedAt = now;
    this.#buckets[this.#bucketSecond % this.windowSeconds]!++;
  }

  /** Completions per second over the window (or since the first one, when that is shorter). */
  perSecond(now = Date.now()): number {
    if (this.#startedAt === 0) return 0;
    this.#advance(now);
    const total = this.#buckets.reduce((a, b) => a + b, 0);
    const span = Math.min(this.windowSeconds, Math.max(1, (now - this.#startedAt) / 1000));
    return total / span;
  }

  /** Forgets the history (after a pause, the old rate means nothing). */
  reset(): void {
    this.#buckets.fill(0);
    this.#startedAt = 0;
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.#bucketSecond === 0) this.#bucketSecond = second;
    // Clear the buckets of the seconds that passed without a completion.
    for (let s = this.#bucketSecond + 1; s <= second && s - this.#bucketSecond <= this.windowSeconds; s++) {
      this.#buckets[s % this.windowSeconds] = 0;
    }
    if (second > this.#bucketSecond) this.#bucketSecond = second;
  }
}
