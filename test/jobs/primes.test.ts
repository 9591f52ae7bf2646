import { describe, expect, it } from 'vitest';
import { primes } from '../../jobs/primes.js';
import { countPrimesAndTwins, isqrt, MAX_SIEVE_END, oddPrimesUpTo } from '../../jobs/sieve.js';
import { artifactText, runBatch } from './helpers.js';

/** Plain trial division: the reference for small ranges. */
function naive(from: number, to: number): { primes: number; twins: number } {
  const isPrime = (n: number): boolean => {
    if (n < 2) return false;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;
  };
  let p = 0;
  let t = 0;
  for (let n = from; n < to; n++) {
    if (isPrime(n)) {
      p++;
      if (isPrime(n + 2)) t++;
    }
  }
  return { primes: p, twins: t };
}

/** Deterministic Miller–Rabin for n < 3.3e24 (bases up to 41), in BigInt. */
function isPrimeBig(n: bigint): boolean {
  if (n < 2n) return false;
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n];
  for (const p of bases) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let s = 0;
  while (d % 2n === 0n) {
    d /= 2n;
    s++;
  }
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n;
    b %= n;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % n;
      b = (b * b) % n;
      e >>= 1n;
    }
    return r;
  };
  outer: for (const a of bases) {
    let x = pow(a, d);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

describe('primes: the sieve', () => {
  it('reproduces pi(10^7) = 664,579 and 58,980 twin pairs below 10^7', () => {
    expect(countPrimesAndTwins(0, 10_000_000)).toEqual({ primes: 664_579, twins: 58_980 });
  });

  it('agrees with trial division on every small range and on ranges around segment edges', () => {
    for (let from = 0; from < 40; from++) {
      for (let to = from; to < 60; to++) expect(countPrimesAndTwins(from, to), `[${from}, ${to})`).toEqual(naive(from, to));
    }
    const edge = 2 * (1 << 18); // numbers covered by one segment
    for (const [from, to] of [[0, edge + 7], [edge - 11, edge + 11], [1, 3 * edge + 5], [100_003, 100_003 + edge]]) {
      expect(countPrimesAndTwins(from!, to!), `[${from}, ${to})`).toEqual(naive(from!, to!));
    }
  });

  it('counts a twin pair straddling a split once, in the range holding its lower member', () => {
    // (11, 13), (17, 19), (29, 31), (41, 43), (59, 61), (71, 73): split at every point in between.
    const whole = countPrimesAndTwins(0, 100);
    for (let cut = 1; cut < 100; cut++) {
      const a = countPrimesAndTwins(0, cut);
      const b = countPrimesAndTwins(cut, 100);
      expect({ primes: a.primes + b.primes, twins: a.twins + b.twins }, `cut at ${cut}`).toEqual(whole);
    }
    expect(countPrimesAndTwins(11, 12)).toEqual({ primes: 1, twins: 1 }); // 13 lies past the end
    expect(countPrimesAndTwins(12, 14)).toEqual({ primes: 1, twins: 0 }); // 13's partner 11 is before
  });

  it('is exact next to 2^53, checked by Miller-Rabin', () => {
    const to = MAX_SIEVE_END;
    const from = to - 3000;
    let p = 0;
    let t = 0;
    for (let n = BigInt(from); n < BigInt(to); n++) {
      if (isPrimeBig(n)) {
        p++;
        if (isPrimeBig(n + 2n)) t++;
      }
    }
    expect(countPrimesAndTwins(from, to)).toEqual({ primes: p, twins: t });
  });

  it('computes exact integer square roots and base primes', () => {
    expect(isqrt(2 ** 53 - 1)).toBe(94_906_265);
    expect(isqrt(99)).toBe(9);
    expect(isqrt(100)).toBe(10);
    expect(Array.from(oddPrimesUpTo(30))).toEqual([3, 5, 7, 11, 13, 17, 19, 23, 29]);
  });
});

describe('primes: the job kind', () => {
  it('splits 0..10^7 into 10 work units that sum to 664,579 primes and 58,980 twin pairs', () => {
    const { inputs, artifact } = runBatch(primes, { from: 0, to: 10_000_000, unitSize: 1_000_000 });
    expect(inputs).toHaveLength(10);
    expect(inputs[9]).toEqual({ from: 9_000_000, to: 10_000_000 });
    const body = JSON.parse(artifactText(artifact));
    expect(body).toEqual({ from: 0, to: 10_000_000, primes: 664_579, twinPairs: 58_980, workUnits: 10, contiguous: true });
    expect(artifact.contentType).toBe('application/json');
    expect(artifact.fileName).toBe('primes.json');
    expect(artifact.summary).toContain('664,579 primes');
  });

  it('makes a short last unit when the range is not a multiple of unitSize', () => {
    const inputs = [...primes.generate!({ from: 5, to: 2500, unitSize: 1000 })];
    expect(inputs).toEqual([{ from: 5, to: 1005 }, { from: 1005, to: 2005 }, { from: 2005, to: 2500 }]);
  });

  it('flags work units that do not tile the range', () => {
    const r = primes.reducer!;
    let acc = r.init({}, 2);
    acc = r.add(acc, primes.run({ from: 0, to: 100 }), { from: 0, to: 100 }, 0);
    acc = r.add(acc, primes.run({ from: 200, to: 300 }), { from: 200, to: 300 }, 1);
    expect(JSON.parse(artifactText(r.finish(acc))).contiguous).toBe(false);
  });

  it('rejects bad inputs and params, naming the field', () => {
    expect(() => primes.validateInput({ from: -1, to: 10 })).toThrow(/from must be >= 0/);
    expect(() => primes.validateInput({ from: 10, to: 5 })).toThrow(/to must be >= 10/);
    expect(() => primes.validateInput({ from: 0, to: 2 ** 53 - 1 })).toThrow(/to must be <=/);
    expect(() => primes.validateInput({ from: 0, to: 1.5 })).toThrow(/to must be an integer/);
    expect(() => primes.validateInput({ from: 0, to: 20_000_000_000 })).toThrow(/to - from must be <=/);
    expect(() => [...primes.generate!({ unitSize: 10 })]).toThrow(/unitSize must be >= 1000/);
    expect(() => [...primes.generate!({ from: 10, to: 10 })]).toThrow(/to must be >= 11/);
  });
});
