/**
 * Redials coordinators that went away, with exponential backoff and jitter. Hyperswarm redials
 * explicit peers by itself, but after four failures it waits ten minutes between attempts: far
 * too long for a coordinator that is only being restarted, and a volunteer's threads idle all
 * that time. This keeps trying at 1, 2, 4 … up to `maxMs` seconds for as long as the worker runs.
 * The backoff starts over only once a coordinator has welcomed us: one that accepts the
 * connection and then refuses us (a private coordinator without our token) is asked ever less often.
 */
export interface ReconnectOptions {
  /** Starts one connection attempt (e.g. swarm.joinPeer). */
  dial: (key: string) => void;
  /** @defaultValue 1000 */
  minMs?: number;
  /** @defaultValue 60000 */
  maxMs?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export class Reconnector {
  #opts: Required<Omit<ReconnectOptions, 'log'>> & Pick<ReconnectOptions, 'log'>;
  #pending = new Map<string, { timer: NodeJS.Timeout; attempt: number }>();
  /** Attempts so far per coordinator connected but not yet welcomed since its last drop. */
  #attempts = new Map<string, number>();
  #closed = false;

  constructor(options: ReconnectOptions) {
    this.#opts = { minMs: 1000, maxMs: 60_000, ...options };
  }

  /** The link to `key` dropped: keep dialling until `connected(key)`. */
  lost(key: string): void {
    if (this.#closed || this.#pending.has(key)) return;
    this.#schedule(key, this.#attempts.get(key) ?? 0);
  }

  /** A connection to `key` is up: stop dialling (the backoff so far is kept until `welcomed`). */
  connected(key: string): void {
    const p = this.#pending.get(key);
    if (p) {
      clearTimeout(p.timer);
      this.#attempts.set(key, p.attempt);
    }
    this.#pending.delete(key);
  }

  /** `key` welcomed us: the next drop is redialled from the shortest delay again. */
  welcomed(key: string): void {
    this.#attempts.delete(key);
  }

  #schedule(key: string, attempt: number): void {
    const base = Math.min(this.#opts.maxMs, this.#opts.minMs * 2 ** attempt);
    // ±25 % jitter: many workers of one restarted coordinator must not redial in lockstep.
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    const timer = setTimeout(() => {
      if (this.#closed || !this.#pending.has(key)) return;
      this.#opts.log?.('coordinator-redial', { coordinator: key, attempt: attempt + 1 });
      this.#opts.dial(key);
      this.#schedule(key, attempt + 1);
    }, delay);
    timer.unref();
    this.#pending.set(key, { timer, attempt });
  }

  /** Stops dialling `key` (it refused us for good). */
  forget(key: string): void {
    const p = this.#pending.get(key);
    if (p) clearTimeout(p.timer);
    this.#pending.delete(key);
    this.#attempts.delete(key);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}
