import { countPrimesAndTwins, MAX_SIEVE_END } from './sieve.js';
import type { JobKind, Json } from './types.js';
import { asObject, intField } from './validate.js';

/** One work unit: the integers of [from, to). */
export interface PrimesInput {
  from: number;
  to: number;
}

/**
 * Primes p with from <= p < to, and twin pairs (p, p + 2) whose *lower* member p is in
 * [from, to) — the upper one may be `to` or `to + 1`. Every pair belongs to exactly one work
 * unit, so the counts of adjacent ranges add up exactly.
 */
export interface PrimesOutput {
  from: number;
  to: number;
  primes: number;
  twins: number;
}

interface PrimesAcc {
  from: number | null;
  to: number | null;
  primes: number;
  twins: number;
  units: number;
  /** False once a work unit did not start where the previous one ended. */
  contiguous: boolean;
}

/** Largest range one work unit may sieve (about 20 s of one core). */
const MAX_UNIT = 10_000_000_000;
const DEFAULT_UNIT = 10_000_000;

export const primes: JobKind<PrimesInput, PrimesOutput, PrimesAcc> = {
  name: 'primes',
  version: '1.0.0',
  description: 'Counts primes and twin-prime pairs in [from, to) with a segmented odd-only sieve of Eratosthenes.',
  output: 'json',
  comparator: { type: 'exact' },
  params: [
    { name: 'from', type: 'integer', default: 0, description: 'first integer of the range (inclusive)' },
    { name: 'to', type: 'integer', default: 1_000_000_000, description: `end of the range (exclusive), at most ${MAX_SIEVE_END}` },
    { name: 'unitSize', type: 'integer', default: DEFAULT_UNIT, description: 'integers per work unit' },
  ],

  validateInput(input: unknown): PrimesInput {
    const obj = asObject(input, 'primes input');
    const from = intField(obj, 'from', { min: 0, max: MAX_SIEVE_END });
    const to = intField(obj, 'to', { min: from, max: MAX_SIEVE_END });
    if (to - from > MAX_UNIT) throw new Error(`to - from must be <= ${MAX_UNIT}`);
    return { from, to };
  },

  run({ from, to }: PrimesInput): PrimesOutput {
    const { primes: count, twins } = countPrimesAndTwins(from, to);
    return { from, to, primes: count, twins };
  },

  *generate(params: Json): Iterable<PrimesInput> {
    const { from, to, unitSize } = resolveParams(params);
    for (let lo = from; lo < to; lo += unitSize) yield { from: lo, to: Math.min(to, lo + unitSize) };
  },

  reducer: {
    init: () => ({ from: null, to: null, primes: 0, twins: 0, units: 0, contiguous: true }),
    add(acc, output) {
      if (acc.to !== null && output.from !== acc.to) acc.contiguous = false;
      acc.from ??= output.from;
      acc.to = output.to;
      acc.primes += output.primes;
      acc.twins += output.twins;
      acc.units += 1;
      return acc;
    },
    finish(acc) {
      const body = {
        from: acc.from ?? 0,
        to: acc.to ?? 0,
        primes: acc.primes,
        twinPairs: acc.twins,
        workUnits: acc.units,
        contiguous: acc.contiguous,
      };
      const range = `[${fmt(body.from)}, ${fmt(body.to)})`;
      const gaps = acc.contiguous ? '' : ' (work units not contiguous)';
      return {
        contentType: 'application/json',
        fileName: 'primes.json',
        bytes: new TextEncoder().encode(JSON.stringify(body, null, 2) + '\n'),
        summary: `${fmt(acc.primes)} primes and ${fmt(acc.twins)} twin pairs in ${range}${gaps}`,
      };
    },
  },
};

/** Batch params, checked once: the same rules serve `generate` and the docs. */
export function resolveParams(params: Json): { from: number; to: number; unitSize: number } {
  const obj = asObject(params ?? {}, 'primes params');
  const from = intField(obj, 'from', { min: 0, max: MAX_SIEVE_END, default: 0 });
  const to = intField(obj, 'to', { min: from + 1, max: MAX_SIEVE_END, default: 1_000_000_000 });
  const unitSize = intField(obj, 'unitSize', { min: 1000, max: MAX_UNIT, default: DEFAULT_UNIT });
  return { from, to, unitSize };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
