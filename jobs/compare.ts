import { decodeOutput } from './codec.js';
import type { Comparator, JobKind } from './types.js';

/** Numeric tolerance of a `{ type: 'tolerance' }` comparator. */
export interface Tolerance {
  abs: number;
  rel: number;
}

/**
 * Whether two encoded outputs of the same work unit agree under the kind's comparator. Pure and
 * synchronous; the validator calls it on candidate results to form a quorum.
 *
 * - `exact` (the default): byte equality. Outputs are canonical (codec.ts), so equal values give
 *   equal bytes; a coordinator may compare SHA-256 digests instead, with the same answer.
 * - `tolerance`: both sides are decoded as JSON and walked in parallel (see `jsonWithinTolerance`).
 *   A `bytes` kind has no numbers to walk and is compared exactly.
 * - `custom`: both sides decoded with the kind's codec and passed to `compare`.
 *
 * Undecodable bytes or a throwing custom comparator count as disagreement, never as an error:
 * a malicious or broken worker must not be able to crash validation.
 */
export function outputsAgree(kind: JobKind, a: Uint8Array, b: Uint8Array): boolean {
  const comparator: Comparator = kind.comparator ?? { type: 'exact' };
  switch (comparator.type) {
    case 'exact':
      return bytesEqual(a, b);
    case 'tolerance': {
      if (kind.output === 'bytes') return bytesEqual(a, b);
      if (bytesEqual(a, b)) return true;
      const decoded = decodeBoth(kind, a, b);
      return decoded !== null && jsonWithinTolerance(decoded[0], decoded[1], comparator);
    }
    case 'custom': {
      const decoded = decodeBoth(kind, a, b);
      if (decoded === null) return false;
      try {
        return comparator.compare(decoded[0], decoded[1]) === true;
      } catch {
        return false;
      }
    }
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** |a − b| <= abs, or |a − b| <= rel · max(|a|, |b|). Symmetric; NaN agrees with nothing. */
export function numbersClose(a: number, b: number, tol: Tolerance): boolean {
  if (a === b) return true;
  const diff = Math.abs(a - b);
  return diff <= tol.abs || diff <= tol.rel * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Structural comparison of two decoded JSON values: numbers at the same place must be close
 * (`numbersClose`); strings, booleans and null equal; arrays the same length; objects the same
 * keys. Whether a key is present is never forgiven.
 */
export function jsonWithinTolerance(a: unknown, b: unknown, tol: Tolerance): boolean {
  if (typeof a === 'number' && typeof b === 'number') return numbersClose(a, b, tol);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonWithinTolerance(a[i], b[i], tol)) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !jsonWithinTolerance(ao[k], bo[k], tol)) return false;
  }
  return true;
}

function decodeBoth(kind: JobKind, a: Uint8Array, b: Uint8Array): [unknown, unknown] | null {
  try {
    return [decodeOutput(kind, a), decodeOutput(kind, b)];
  } catch {
    return null;
  }
}
