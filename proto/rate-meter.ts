/**
 * A recent rate, per second, of a running count: samples of (time, count), at most one a second,
 * kept over a sliding window, so memory stays fixed however fast the count moves. One meter for
 * the whole grid (isomorphic, hence in proto/): a batch's progress behind its ETA (units decided,
 * coordinator/http/views.ts) and a browser volunteer's live rate (tasks done, browser-worker/agent.ts).
 *
 * The rate follows what happens now (workers joining, leaving, a slow start), not the average
 * since the start; a count that did not move for a whole window has rate 0.
 */
export class RateMeter {
  readonly windowMs: number;
  #samples: { t: number; count: number }[] = [];
  /** The count kept by `record` (a meter of events rather than of a total kept elsewhere). */
  #events = 0;

  /** @param windowMs - the window the rate is taken over, ms. @defaultValue 60000 */
  constructor(windowMs = 60_000) {
    this.windowMs = windowMs;
  }

  /** Notes the count at `now` (ms); cheap enough to call on every change. */
  note(now: number, count: number): void {
    const last = this.#samples.at(-1);
    if (last && now - last.t < 1000) return;
    this.#samples.push({ t: now, count });
    // Keeps one sample from before the window: the base of the rate over it.
    while (this.#samples.length > 2 && now - this.#samples[1]!.t > this.windowMs) this.#samples.shift();
  }

  /**
   * Counts `n` events at `now` (ms): the meter keeps the count. The first event after creation
   * or `reset` starts the span, itself included.
   */
  record(now: number, n = 1): void {
    if (this.#samples.length === 0) this.#samples.push({ t: now, count: this.#events });
    this.#events += n;
    this.note(now, this.#events);
  }

  /**
   * The count's rate per second over the window ending at `now`, with `count` the count now
   * (default: the events `record`ed); undefined until the window spans at least `minSpanMs`
   * (the caller falls back to an average). A span under a second counts as one second.
   */
  perSecond(now: number, count = this.#events, minSpanMs = 2000): number | undefined {
    const inWindow = this.#samples.findIndex((s) => now - s.t <= this.windowMs);
    if (inWindow < 0) return this.#samples.length > 0 ? 0 : undefined; // no change for a whole window
    // The base: the last sample from before the window when there is one (a sample already
    // counts the change it was taken at), else the first inside it.
    const base = this.#samples[inWindow > 0 ? inWindow - 1 : 0]!;
    const span = now - base.t;
    if (span < minSpanMs) return undefined;
    // A count that goes down (units reopened for a re-check) is no negative progress.
    return Math.max(0, ((count - base.count) * 1000) / Math.max(span, 1000));
  }

  /** Forgets the history (after a pause, the old rate means nothing). */
  reset(): void {
    this.#samples = [];
    this.#events = 0;
  }
}
