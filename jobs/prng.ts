/**
 * Deterministic PRNGs for job kinds. Only 32-bit integer arithmetic (Math.imul, shifts), so every
 * JavaScript engine produces the same stream from the same seed: results can be cross-checked
 * byte for byte between Node worker threads and browsers.
 */

/**
 * Why the state lives in typed arrays: V8 with pointer compression (every 64-bit desktop Chrome
 * and Edge) keeps small integers in object fields and closure slots as 31-bit Smis, so a 32-bit
 * state word stored there is boxed as a heap number on most writes: one allocation per draw and
 * constant young-generation GC. A typed array holds raw 32-bit words. Node is built without
 * pointer compression and did not pay this; the browser volunteer ran `pi` about 5.6× slower
 * per core (issue 13). The arithmetic is unchanged, so the streams are bit for bit the same
 * (test/jobs/golden.test.ts pins every kind's outputs).
 */

/** splitmix32: turns any 32-bit seed into a well-mixed state word. */
export function splitmix32(seed: number): () => number {
  const state = new Uint32Array([seed >>> 0]);
  return () => {
    const s = (state[0]! + 0x9e3779b9) >>> 0;
    state[0] = s;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** splitmix32's output function: a bijection of 32-bit words that mixes every bit into every bit. */
export function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128**: fast, 128-bit state, passes BigCrush. `nextUint32` returns an unsigned 32-bit
 * integer, `nextFloat` a double in [0, 1) with 32 bits of randomness.
 */
export class Xoshiro128 {
  /** The four state words a, b, c, d (signed view: only bit patterns matter). */
  readonly #s = new Int32Array(4);

  constructor(seed: number) {
    const mix = splitmix32(seed);
    const s = this.#s;
    for (let i = 0; i < 4; i++) s[i] = mix();
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  }

  /**
   * Stream `stream` of run `seed`: a generator for every (seed, stream) pair, e.g. (batch seed,
   * work unit). The state words are mix32(seed), mix32(stream) and two more of each under other
   * constants; mix32 is a bijection, so two different pairs always start from different states
   * (never the all-zero one), and the runs of two seeds share no stream. Different states sit at
   * unrelated points of xoshiro128**'s single cycle of 2^128 − 1: the chance that two of N
   * streams of L draws overlap is about N² · L / 2^128.
   */
  static stream(seed: number, stream: number): Xoshiro128 {
    const rng = new Xoshiro128(0);
    const s = rng.#s;
    s[0] = mix32(seed);
    s[1] = mix32(stream);
    s[2] = mix32((seed ^ 0x6a09e667) >>> 0);
    s[3] = mix32((stream ^ 0xbb67ae85) >>> 0);
    return rng;
  }

  nextUint32(): number {
    const s = this.#s;
    let a = s[0]!;
    let b = s[1]!;
    let c = s[2]!;
    let d = s[3]!;
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    s[0] = a;
    s[1] = b;
    s[2] = c;
    s[3] = d;
    return result;
  }

  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
