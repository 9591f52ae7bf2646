import type { JobKind, Json } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Canonical JSON: object keys sorted, no whitespace. Two runs that build the same value produce
 * the same bytes whatever order they inserted keys in, so exact comparison can use digests.
 * Non-finite numbers are rejected: JSON cannot carry them and silently turning them into null
 * would make a wrong result look plausible.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`non-finite number ${value} cannot be encoded`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`value of type ${typeof value} cannot be encoded as JSON`);
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

export function decodeJson(bytes: Uint8Array): Json {
  return JSON.parse(decoder.decode(bytes)) as Json;
}

/** Inputs always travel as canonical JSON. */
export const encodeInput = encodeJson;
export const decodeInput = decodeJson;

export function encodeOutput(kind: JobKind, output: unknown): Uint8Array {
  if (kind.output === 'bytes') {
    if (!(output instanceof Uint8Array)) throw new TypeError(`job kind ${kind.name} must return a Uint8Array`);
    return output;
  }
  return encodeJson(output);
}

export function decodeOutput(kind: JobKind, bytes: Uint8Array): unknown {
  return kind.output === 'bytes' ? bytes : decodeJson(bytes);
}
