/**
 * Segmented sieve of Eratosthenes over odd numbers only, one byte per odd number (0 = prime,
 * 1 = composite). Plain Number arithmetic: every value stays below 2^53, where doubles are exact
 * integers, so `%`, `*` and `/ 2` of even differences are exact on every engine.
 */

/** Odd slots per segment: 256 KiB of flags covering 2^19 consecutive integers (fits L2). */
export const SEGMENT_SLOTS = 1 << 18;

/** Largest `to` the sieve accepts: the twin check looks at `to + 1`, which must stay exact. */
export const MAX_SIEVE_END = Number.MAX_SAFE_INTEGER - 1;

/** floor(sqrt(n)) for 0 <= n <= 2^53, corrected for the rounding of Math.sqrt. */
export function isqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n));
  while (r * r > n) r--;
  while ((r + 1) * (r + 1) <= n) r++;
  return r;
}

/** Odd primes up to `limit` by a plain sieve; limit <= isqrt(isqrt(2^53)) ≈ 9,742 sieves any base-prime table. */
function smallOddPrimes(limit: number): Uint32Array {
  const flags = new Uint8Array((limit >> 1) + 1); // flags[i] describes 2i + 1
  const out: number[] = [];
  for (let i = 1; 2 * i + 1 <= limit; i++) {
    if (flags[i] !== 0) continue;
    const p = 2 * i + 1;
    out.push(p);
    for (let j = (p * p) >> 1; j < flags.length; j += p) flags[j] = 1;
  }
  return Uint32Array.from(out);
}

/**
 * Marks the composites among the `len` odd numbers lo, lo + 2, … in `seg` (cleared first),
 * computing each prime's first multiple with `%`. Used for the base-prime table, where the
 * number of primes is small; the main sieve keeps per-prime offsets instead.
 */
function sieveOddSegment(seg: Uint8Array, lo: number, len: number, primes: Uint32Array): void {
  seg.fill(0, 0, len);
  const hi = lo + 2 * (len - 1);
  for (let k = 0; k < primes.length; k++) {
    const p = primes[k]!;
    if (p * p > hi) break;
    let j = firstOddMultipleIndex(p, lo);
    for (; j < len; j += p) seg[j] = 1;
  }
}

/** Slot index (relative to odd `lo`) of the first odd multiple of odd prime `p` that is >= max(p*p, lo). */
function firstOddMultipleIndex(p: number, lo: number): number {
  let m = p * p;
  if (m < lo) {
    const r = lo % p;
    m = r === 0 ? lo : lo + (p - r);
    if (m % 2 === 0) m += p;
  }
  return (m - lo) / 2;
}

// Base primes are the same for every work unit of a batch, so a worker keeps the largest table
// it has built. A cache never changes a result, only how fast it comes.
let cachedPrimes = new Uint32Array(0);
let cachedLimit = 0;

/** All odd primes <= limit, ascending. limit <= isqrt(2^53) ≈ 9.5e7 (22 MB of table at most). */
export function oddPrimesUpTo(limit: number): Uint32Array {
  if (limit <= cachedLimit) return cachedPrimes.subarray(0, upperBound(cachedPrimes, limit));
  const small = smallOddPrimes(Math.max(3, isqrt(limit)));
  const seg = new Uint8Array(SEGMENT_SLOTS);
  // Grown by doubling: a plain number[] of 5.5 M primes would cost twice the memory.
  let table = new Uint32Array(1024);
  let count = 0;
  for (let lo = 3; lo <= limit; lo += 2 * SEGMENT_SLOTS) {
    const len = Math.min(SEGMENT_SLOTS, Math.floor((limit - lo) / 2) + 1);
    sieveOddSegment(seg, lo, len, small);
    for (let j = 0; j < len; j++) {
      if (seg[j] !== 0) continue;
      if (count === table.length) {
        const grown = new Uint32Array(2 * table.length);
        grown.set(table);
        table = grown;
      }
      table[count++] = lo + 2 * j;
    }
  }
  cachedPrimes = table.slice(0, count);
  cachedLimit = limit;
  return cachedPrimes;
}

function upperBound(a: Uint32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Odd primes whose multiples come from a repeating pattern rather than from crossing off. */
const PRESIEVE_PRIMES = [3, 5, 7, 11, 13];
const PRESIEVE_MAX = 13;
const PATTERN_SLOTS = 3 * 5 * 7 * 11 * 13; // period of the pattern, in odd slots
/** Slot k of the pattern stands for the odd number 2k + 1; 1 marks a multiple of 3, 5, 7, 11 or 13. */
const PATTERN = (() => {
  const pat = new Uint8Array(PATTERN_SLOTS);
  for (const p of PRESIEVE_PRIMES) for (let k = (p - 1) / 2; k < PATTERN_SLOTS; k += p) pat[k] = 1;
  return pat;
})();

/** Fills seg[0, len) for odd numbers lo, lo + 2, … with the multiples of 3…13 marked. */
function presieve(seg: Uint8Array, len: number, lo: number): void {
  let off = ((lo - 1) / 2) % PATTERN_SLOTS;
  let j = 0;
  while (j < len) {
    const n = Math.min(PATTERN_SLOTS - off, len - j);
    seg.set(PATTERN.subarray(off, off + n), j);
    j += n;
    off = 0;
  }
  // The pattern marks 3…13 themselves; they are prime.
  for (const p of PRESIEVE_PRIMES) if (p >= lo && (p - lo) / 2 < len) seg[(p - lo) / 2] = 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Tally {
  composites: number;
  twins: number;
}

/** Composite flags summed and adjacent prime slots counted, one byte at a time. */
function tallyBytes(seg: Uint8Array, from: number, len: number, prev: number): Tally {
  let composites = 0;
  let twins = 0;
  for (let j = from; j < len; j++) {
    const cur = seg[j]!;
    composites += cur;
    if ((prev | cur) === 0) twins++;
    prev = cur;
  }
  return { composites, twins };
}

/**
 * The same tally four flags at a time (little-endian only: byte 0 of a word is the lowest slot).
 * Flags are 0 or 1, so multiplying by 0x01010101 sums a word's four bytes into its top byte.
 */
function tallyWords(seg: Uint8Array, words: Uint32Array, len: number, prevPrime: boolean): Tally {
  const full = len >>> 2;
  let composites = 0;
  let twins = 0;
  let prev = prevPrime ? 0 : 1; // flag of the slot just before the current word
  for (let i = 0; i < full; i++) {
    const w = words[i]!;
    composites += Math.imul(w, 0x01010101) >>> 24;
    // Byte k of (w | w >>> 8) is flag[k] | flag[k + 1]; the pairs inside the word are bytes 0..2.
    const pairs = (w | (w >>> 8)) | 0x01000000;
    twins += 4 - (Math.imul(pairs, 0x01010101) >>> 24);
    if ((prev | (w & 1)) === 0) twins++;
    prev = w >>> 24;
  }
  const tail = tallyBytes(seg, full << 2, len, prev);
  return { composites: composites + tail.composites, twins: twins + tail.twins };
}

export interface SieveCounts {
  /** Primes p with from <= p < to. */
  primes: number;
  /** Twin pairs (p, p + 2) with from <= p < to; p + 2 may lie at or just past `to`. */
  twins: number;
}

/**
 * Counts primes in [from, to) and twin pairs whose lower member is in [from, to). The sieve runs
 * over the odd numbers of [from, to + 2) so a pair straddling `to` is seen by the range holding
 * its lower member, and by no other: adjacent ranges sum exactly.
 */
export function countPrimesAndTwins(from: number, to: number): SieveCounts {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && from <= to && to <= MAX_SIEVE_END)) {
    throw new RangeError(`need 0 <= from <= to <= ${MAX_SIEVE_END}`);
  }
  let primes = from <= 2 && 2 < to ? 1 : 0; // 2 is in no twin pair
  let twins = 0;
  const end = to + 2; // exclusive end of the sieved range
  let lo = Math.max(from, 3);
  if (lo % 2 === 0) lo += 1;
  if (lo >= end) return { primes, twins };

  const base = oddPrimesUpTo(isqrt(end - 1));
  // Per-prime slot offset of the next multiple, relative to the current segment. Float64: the
  // first offset can exceed 2^31 when p*p lies far beyond the range start.
  const next = new Float64Array(base.length);
  for (let k = 0; k < base.length; k++) next[k] = firstOddMultipleIndex(base[k]!, lo);

  const seg = new Uint8Array(SEGMENT_SLOTS);
  const words = LITTLE_ENDIAN ? new Uint32Array(seg.buffer) : undefined;
  const totalSlots = Math.floor((end - 1 - lo) / 2) + 1;
  // Slots whose number is < to count as primes; the last one only serves the twin check.
  const countedSlots = to > lo ? Math.floor((to - 1 - lo) / 2) + 1 : 0;
  const firstSieved = upperBound(base, PRESIEVE_MAX);
  let prevPrime = false;
  for (let start = 0; start < totalSlots; start += SEGMENT_SLOTS) {
    const len = Math.min(SEGMENT_SLOTS, totalSlots - start);
    presieve(seg, len, lo + 2 * start);
    for (let k = firstSieved; k < base.length; k++) {
      let j = next[k]!;
      if (j >= len) {
        next[k] = j - SEGMENT_SLOTS;
        continue;
      }
      const p = base[k]!;
      for (; j < len; j += p) seg[j] = 1;
      next[k] = j - SEGMENT_SLOTS;
    }
    const tally = words ? tallyWords(seg, words, len, prevPrime) : tallyBytes(seg, 0, len, prevPrime ? 0 : 1);
    primes += len - tally.composites;
    twins += tally.twins;
    prevPrime = seg[len - 1] === 0;
    if (start + len > countedSlots) {
      for (let j = Math.max(0, countedSlots - start); j < len; j++) if (seg[j] === 0) primes--;
    }
  }
  return { primes, twins };
}
