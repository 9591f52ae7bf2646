/**
 * Bearer tokens, stored only as SHA-256 hashes, each with a role; and a token-bucket rate limit
 * on submissions per token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CoordinatorErrors } from '../errors.js';
import type { GridStore, TokenRow } from '../store/index.js';

/**
 * What a token may do. `submitter`: submit batches, cancel its own, read. `operator`: also cancel
 * anyone's batch and see volunteers' addresses. `volunteer`: a join key for a `--private` grid's
 * volunteer WebSocket, nothing else (it may not submit, cancel, or read a private coordinator).
 */
export type TokenRole = 'submitter' | 'operator' | 'volunteer';
export const TOKEN_ROLES: readonly TokenRole[] = ['submitter', 'operator', 'volunteer'];

export function isTokenRole(value: unknown): value is TokenRole {
  return TOKEN_ROLES.includes(value as TokenRole);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token's id: the first 12 hex digits of its hash, enough to name it, useless to forge it. */
const idOf = (hash: string) => hash.slice(0, 12);

/** Creates a token and stores its hash; the token itself is shown once and never stored. */
export function createToken(store: GridStore, name: string, role: TokenRole = 'submitter'): string {
  if (!isTokenRole(role)) throw new TypeError(`role must be one of ${TOKEN_ROLES.join(', ')}, got ${String(role)}`);
  const token = `sg_${randomBytes(24).toString('base64url')}`;
  store.insertToken({ hash: hashToken(token), name, role, created_at: Date.now() });
  return token;
}

export interface TokenInfo {
  /** The first 12 hex digits of the token's hash. */
  id: string;
  name: string;
  role: TokenRole;
  createdAt: string;
}

/** Who a valid token is: what requests are authorised by, and what batches record as owner. */
export interface Principal {
  /** The token's id (hash prefix): unique, unlike names. */
  id: string;
  name: string;
  role: TokenRole;
}

const info = (r: TokenRow): TokenInfo => ({ id: idOf(r.hash), name: r.name, role: r.role, createdAt: new Date(r.created_at).toISOString() });

export function listTokens(store: GridStore): TokenInfo[] {
  return Array.from(store.tokens(), info);
}

/** Most tokens one revoke looks at: two already make an id ambiguous; the count in the error is capped here. */
const MATCHES_SHOWN = 1000;

/**
 * Revokes a token named by its id (a prefix of its hash, 8 hex digits or more, as `listTokens`
 * shows) or given whole. It stops working at once, also on a running coordinator (every request
 * is checked against the store). Throws when nothing or more than one token matches.
 */
export function revokeToken(store: GridStore, idOrToken: string): TokenInfo {
  const given = idOrToken.trim();
  const lower = given.toLowerCase();
  if (/^[0-9a-f]{1,7}$/.test(lower)) throw CoordinatorErrors.TOKEN_NOT_FOUND(`with id ${given}: give at least 8 hex digits of the id`);
  const hash = /^[0-9a-f]{8,64}$/.test(lower) ? lower : hashToken(given);
  const rows = store.tokensWithHashPrefix(hash, MATCHES_SHOWN);
  if (rows.length === 0) throw CoordinatorErrors.TOKEN_NOT_FOUND(hash === lower ? `with id ${given}` : 'like that');
  if (rows.length > 1) throw CoordinatorErrors.TOKEN_AMBIGUOUS(rows.length, given);
  const row = rows[0]!;
  store.deleteToken(row.hash);
  return info(row);
}

/** Who the token is, when it is valid. */
export function verifyToken(store: GridStore, token: string): Principal | undefined {
  const hash = hashToken(token);
  const row = store.getToken(hash);
  if (!row) return undefined;
  // The lookup is by hash already; the constant-time compare guards against any future change.
  if (!timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return undefined;
  return { id: idOf(row.hash), name: row.name, role: row.role };
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
