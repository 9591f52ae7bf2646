/**
 * One identity, two live processes: a worker's `--data` copied to a second machine. Hyperswarm
 * keeps one connection per key, so each process's dial knocks the other off ("Duplicate
 * connection") and both redial: forever, ~30 times a minute, with no error shown. Each Hyperswarm
 * worker names a random per-process `instance` in its Hello. A Hello whose instance differs from
 * the last one of its key may be a restarted process (the old one is dead) or a second live one;
 * only the displaced instance coming back tells them apart. When it does, the instance that
 * displaced it is the newcomer: it is refused with GRID_ERR_DUPLICATE_IDENTITY (its worker says so
 * and stops), and keeps being refused for `refuseMs`. The incumbent loses its connection once or
 * twice while this settles; a restarted worker is never refused.
 * Browser tabs share their volunteer id on purpose and are not tracked here.
 */

export interface IdentityClaimsOptions {
  /** How long after a displacement the displaced instance's return counts as proof. @defaultValue 60000 */
  windowMs?: number;
  /** How long a newcomer found to be a duplicate stays refused (ms). @defaultValue 3600000 */
  refuseMs?: number;
  /** Keys tracked at most (oldest forgotten first). @defaultValue 100000 */
  maxKeys?: number;
}

interface Claim {
  /** The instance of the key's last welcomed session. */
  instance: string;
  open: number;
  /** When its last session closed (monotonic ms); 0 while open. */
  closedAt: number;
  displaced?: { victim: string; at: number };
  /** Instances refused, until when (monotonic ms). */
  refused?: Map<string, number>;
}

export class IdentityClaims {
  #claims = new Map<string, Claim>();
  #windowMs: number;
  #refuseMs: number;
  #maxKeys: number;

  constructor(options: IdentityClaimsOptions = {}) {
    this.#windowMs = options.windowMs ?? 60_000;
    this.#refuseMs = options.refuseMs ?? 3_600_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /**
   * A Hello from `key` naming process `instance` (hex; '' from an old worker: never refused).
   * Returns `refuse` when this instance is a known duplicate, else `admit`, with the instance
   * just found to be a duplicate (`evict`, whose open session the caller closes with the error).
   */
  hello(key: string, instance: string, now = performance.now()): { admit: boolean; evict?: string } {
    if (!instance) return { admit: true };
    let claim = this.#claims.get(key);
    const until = claim?.refused?.get(instance);
    if (until !== undefined) {
      if (now < until) return { admit: false };
      claim!.refused!.delete(instance);
    }
    if (!claim) {
      if (this.#claims.size >= this.#maxKeys) this.#claims.delete(this.#claims.keys().next().value!);
      this.#claims.set(key, (claim = { instance, open: 0, closedAt: 0 }));
    }
    let evict: string | undefined;
    if (claim.instance !== instance) {
      const recent = claim.open > 0 || now - claim.closedAt < this.#windowMs;
      const d = claim.displaced;
      if (d && d.victim === instance && now - d.at < this.#windowMs) {
        // The displaced process is alive: the one that displaced it shares its identity.
        evict = claim.instance;
        (claim.refused ??= new Map()).set(evict, now + this.#refuseMs);
        claim.displaced = undefined;
        claim.open = 0;
      } else if (recent) {
        claim.displaced = { victim: claim.instance, at: now };
        claim.open = 0;
      } else {
        claim.displaced = undefined;
        claim.open = 0;
      }
      claim.instance = instance;
    }
    claim.open++;
    claim.closedAt = 0;
    return evict ? { admit: true, evict } : { admit: true };
  }

  /** A welcomed session of `key` and `instance` closed. */
  closed(key: string, instance: string, now = performance.now()): void {
    const claim = this.#claims.get(key);
    if (!claim || !instance || claim.instance !== instance || claim.open === 0) return;
    if (--claim.open === 0) claim.closedAt = now;
  }
}
