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
  #live = new Set<() => void>();
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
        if (Date.now() < this.#quietUntil || this.#rss() <= this.maxRssMb * 2 ** 20) return;
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
