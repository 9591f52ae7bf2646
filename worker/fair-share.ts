/**
 * Splits a worker's threads between coordinators by weight (BOINC's resource shares), with
 * start-time fair queueing: every coordinator has a virtual finish time that grows by 1/weight
 * per task it is served, and the next free thread goes to the coordinator with the earliest
 * virtual start among those with a task waiting.
 *
 * A plain "served / weight" counter would not do: a coordinator that joins late, or had no work
 * for an hour, would have a tiny count and take every thread until it caught up. Here a
 * coordinator that was idle starts again at the current virtual time, so it gets its share from
 * then on, and no credit for the time it had nothing to offer.
 */
export class FairShare<K> {
  /** Virtual start of the most recent pick: the system's virtual time. */
  #now = 0;
  #finish = new Map<K, number>();

  /** Picks one of the candidates (each with a task waiting) and charges it one task. */
  pick(candidates: Iterable<{ key: K; weight: number }>): K | undefined {
    let best: { key: K; weight: number } | undefined;
    let bestStart = Infinity;
    for (const c of candidates) {
      const start = Math.max(this.#finish.get(c.key) ?? 0, this.#now);
      // Ties go to the heavier weight, so a 3:1 split starts with the 3.
      if (start < bestStart || (start === bestStart && best && c.weight > best.weight)) {
        best = c;
        bestStart = start;
      }
    }
    if (!best) return undefined;
    this.#now = bestStart;
    this.#finish.set(best.key, bestStart + 1 / best.weight);
    return best.key;
  }

  forget(key: K): void {
    this.#finish.delete(key);
  }
}
