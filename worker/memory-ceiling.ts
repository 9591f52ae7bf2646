import { totalmem } from 'node:os';

/**
 * The default ceiling, in MB: half of the memory this process may use, which is the host's RAM
 * or, when lower, the limit of its memory cgroup (a container, a systemd slice):
 * `process.constrainedMemory()`, which reads cgroup v1 and v2. Sized from the host's RAM alone,
 * a worker in a 600 MiB cgroup would be killed by the kernel (exit 137) long before its own
 * guard fired. Half leaves room for the worker itself, its threads' heaps and the moment the
 * guard takes to notice (it samples, see below).
 * @param totalBytes the host's RAM. @defaultValue os.totalmem()
 * @param constrainedBytes the cgroup's limit; 0, undefined or more than the RAM mean none.
 *   @defaultValue process.constrainedMemory()
 */
export function defaultMaxMemoryMb(totalBytes = totalmem(), constrainedBytes = constrainedMemory()): number {
  const limit = constrainedBytes !== undefined && constrainedBytes > 0 && constrainedBytes < totalBytes ? constrainedBytes : totalBytes;
  return Math.max(64, Math.round(limit / 2 / 2 ** 20));
}

function constrainedMemory(): number | undefined {
  // Node 19.6+ (experimental in 20): undefined, 0 or about 2^63 where the platform has no limit.
  return (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
}

/**
 * The worker process's resident-memory ceiling (see runner.ts): heap limits do not cover
 * ArrayBuffers, so while tasks run the RSS is sampled, and crossing the ceiling stops every task
 * being watched. (Node 20 cannot tell which thread holds the memory, so all of them are stopped.)
 */
export class MemoryCeiling {
  readonly maxRssMb: number;
  #checkMs: number;
  /** Tasks watched: how to stop each, and its own resident bytes when it runs in a process of its own. */
  #live = new Set<{ stop: () => void; rss?: () => number }>();
  #timer?: NodeJS.Timeout;
  /** After stopping tasks, freed memory takes a moment to leave the RSS: spare the next ones meanwhile. */
  #quietUntil = 0;

  #rss: () => number;

  /** `rss`: the resident bytes to hold under the ceiling. @defaultValue this process's own */
  constructor(options: { maxRssMb: number; checkMs: number; rss?: () => number }) {
    this.maxRssMb = options.maxRssMb;
    this.#checkMs = options.checkMs;
    this.#rss = options.rss ?? (() => process.memoryUsage.rss());
  }

  /**
   * Calls `stop` if the ceiling is crossed before the returned function is called. `ownRss`,
   * for a task in a process of its own, lets the ceiling stop only the culprit: when the largest
   * such process holds more than this process (where threads cannot be told apart), only its
   * task is stopped; otherwise every task watched is.
   */
  watch(stop: () => void, ownRss?: () => number): () => void {
    if (this.maxRssMb <= 0) return () => {};
    const entry = { stop, ...(ownRss && { rss: ownRss }) };
    this.#live.add(entry);
    if (!this.#timer) {
      this.#timer = setInterval(() => {
        if (this.#live.size === 0) {
          this.close();
          return;
        }
        if (Date.now() < this.#quietUntil || this.#rss() <= this.maxRssMb * 2 ** 20) return;
        this.#quietUntil = Date.now() + 2000;
        let top: { stop: () => void; bytes: number } | undefined;
        for (const w of this.#live) {
          const bytes = w.rss?.() ?? 0;
          if (w.rss && (!top || bytes > top.bytes)) top = { stop: w.stop, bytes };
        }
        if (top && top.bytes > process.memoryUsage.rss()) return top.stop();
        for (const w of this.#live) w.stop();
      }, this.#checkMs);
      this.#timer.unref();
    }
    return () => this.#live.delete(entry);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
