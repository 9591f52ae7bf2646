/**
 * Submitter authentication: bearer tokens, stored only as SHA-256 hashes, and a token-bucket
 * rate limit on submissions per token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CoordinatorErrors } from '../errors.js';
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

export interface TokenInfo {
  /** The first 12 hex digits of the token's hash: enough to name it, useless to forge it. */
  id: string;
  name: string;
  createdAt: string;
}

export function listTokens(store: Store): TokenInfo[] {
  const rows = store.stmt('SELECT hash, name, created_at FROM tokens ORDER BY created_at, hash').all() as { hash: string; name: string; created_at: number }[];
  return rows.map((r) => ({ id: r.hash.slice(0, 12), name: r.name, createdAt: new Date(r.created_at).toISOString() }));
}

/**
 * Revokes a token named by its id (a prefix of its hash, 8 hex digits or more, as `listTokens`
 * shows) or given whole. It stops working at once, also on a running coordinator (every request
 * is checked against the store). Throws when nothing or more than one token matches.
 */
export function revokeToken(store: Store, idOrToken: string): TokenInfo {
  const given = idOrToken.trim();
  const lower = given.toLowerCase();
  if (/^[0-9a-f]{1,7}$/.test(lower)) throw CoordinatorErrors.TOKEN_NOT_FOUND(`with id ${given}: give at least 8 hex digits of the id`);
  const hash = /^[0-9a-f]{8,64}$/.test(lower) ? lower : hashToken(given);
  const rows = store.stmt("SELECT hash, name, created_at FROM tokens WHERE substr(hash, 1, length(?)) = ?").all(hash, hash) as { hash: string; name: string; created_at: number }[];
  if (rows.length === 0) throw CoordinatorErrors.TOKEN_NOT_FOUND(hash === lower ? `with id ${given}` : 'like that');
  if (rows.length > 1) throw CoordinatorErrors.TOKEN_AMBIGUOUS(rows.length, given);
  const row = rows[0]!;
  store.stmt('DELETE FROM tokens WHERE hash = ?').run(row.hash);
  return { id: row.hash.slice(0, 12), name: row.name, createdAt: new Date(row.created_at).toISOString() };
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
