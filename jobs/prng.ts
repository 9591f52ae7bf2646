/**
 * Deterministic PRNGs for job kinds. Only 32-bit integer arithmetic (Math.imul, shifts), so every
 * JavaScript engine produces the same stream from the same seed: results can be cross-checked
 * byte for byte between Node worker threads and browsers.
 */

/** splitmix32: turns any 32-bit seed into a well-mixed state word. */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * xoshiro128**: fast, 128-bit state, passes BigCrush. `nextUint32` returns an unsigned 32-bit
 * integer, `nextFloat` a double in [0, 1) with 32 bits of randomness.
 */
export class Xoshiro128 {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    const mix = splitmix32(seed);
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
