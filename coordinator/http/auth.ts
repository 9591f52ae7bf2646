/**
 * Submitter authentication: bearer tokens, stored only as SHA-256 hashes, and a token-bucket
 * rate limit on submissions per token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a token and stores its hash; the token itself is shown once and never stored. */
export function createToken(store: Store, name: string): string {
  const token = `sg_${randomBytes(24).toString('base64url')}`;
  store.stmt('INSERT INTO tokens (hash, name, created_at) VALUES (?, ?, ?)').run(hashToken(token), name, Date.now());
  return token;
}

/** Returns the token's name when valid. */
export function verifyToken(store: Store, token: string): string | undefined {
  const hash = hashToken(token);
  const row = store.stmt('SELECT hash, name FROM tokens WHERE hash = ?').get(hash) as { hash: string; name: string } | undefined;
  if (!row) return undefined;
  // The lookup is by hash already; the constant-time compare guards against any future change.
  return timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash)) ? row.name : undefined;
}

export function bearerOf(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m ? m[1] : undefined;
}

/** Token bucket per key: `burst` submissions at once, refilled at `perMinute`. */
export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  readonly burst: number;
  readonly perMinute: number;

  constructor(perMinute: number, burst: number) {
    this.perMinute = perMinute;
    this.burst = burst;
  }

  /** Takes one token; returns 0 when allowed, or the seconds to wait. */
  take(key: string, now = Date.now()): number {
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.perMinute) * 60);
  }
}
