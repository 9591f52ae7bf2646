/**
 * A batch's recent progress rate: samples of (time, units decided), at most one a second, kept
 * for a minute. The rate is taken over that window, so a batch's ETA follows what the grid does
 * now (workers joining, leaving, a slow start) instead of the average since submission; a batch
 * nothing has happened to for a minute has rate 0 (no ETA).
 */
export class RateMeter {
  readonly windowMs: number;
  #samples: { t: number; decided: number }[] = [];

  constructor(windowMs = 60_000) {
    this.windowMs = windowMs;
  }

  /** Notes the count of decided units at `now` (ms); cheap enough to call on every decision. */
  note(now: number, decided: number): void {
    const last = this.#samples.at(-1);
    if (last && now - last.t < 1000) return;
    this.#samples.push({ t: now, decided });
    // Keeps one sample from before the window: the base of the rate over it.
    while (this.#samples.length > 2 && now - this.#samples[1]!.t > this.windowMs) this.#samples.shift();
  }

  /**
   * Units decided per second over the window ending at `now`, with `decided` the count now;
   * undefined until the window spans at least `minSpanMs` (the caller falls back to an average).
   */
  perSecond(now: number, decided: number, minSpanMs = 2000): number | undefined {
    const inWindow = this.#samples.findIndex((s) => now - s.t <= this.windowMs);
    if (inWindow < 0) return this.#samples.length > 0 ? 0 : undefined; // nothing decided for a whole window
    // The base: the last sample from before the window when there is one (a sample already
    // counts the decision it was taken at), else the first inside it.
    const base = this.#samples[inWindow > 0 ? inWindow - 1 : 0]!;
    const span = now - base.t;
    if (span < minSpanMs) return undefined;
    // Units reopened for a re-check (decided goes down) are not negative progress.
    return Math.max(0, ((decided - base.decided) * 1000) / span);
  }
}
