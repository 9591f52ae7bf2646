/**
 * Colouring of escape-time images: a fixed 256-entry palette and histogram equalisation of
 * iteration counts onto it. Integer and basic float arithmetic only, so the same counts always
 * give the same PNG bytes.
 */

/** Gradient stops (position in [0, 1], RGB): deep blue → sky blue → white → orange → brown. */
const STOPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.0, 0, 7, 100],
  [0.25, 32, 107, 203],
  [0.6, 237, 255, 255],
  [0.85, 255, 170, 0],
  [1.0, 90, 40, 0],
];

/** Palette index 0 is the set itself (black); 1…255 run along the gradient. */
export const PALETTE: readonly (readonly [number, number, number])[] = (() => {
  const out: [number, number, number][] = [[0, 0, 0]];
  for (let i = 1; i < 256; i++) {
    const t = (i - 1) / 254;
    let s = 0;
    while (s < STOPS.length - 2 && t > STOPS[s + 1]![0]) s++;
    const [t0, r0, g0, b0] = STOPS[s]!;
    const [t1, r1, g1, b1] = STOPS[s + 1]!;
    const f = (t - t0) / (t1 - t0);
    out.push([Math.round(r0 + f * (r1 - r0)), Math.round(g0 + f * (g1 - g0)), Math.round(b0 + f * (b1 - b0))]);
  }
  return out;
})();

/**
 * Maps iteration counts to palette indexes. Counts equal to `maxIter` (never escaped) become 0;
 * the others are ranked by histogram equalisation, so each colour covers about the same area
 * whatever the zoom and iteration limit.
 */
export function equalise(counts: Uint16Array, maxIter: number): Uint8Array {
  const hist = new Float64Array(maxIter + 1);
  for (let i = 0; i < counts.length; i++) hist[counts[i]!]! += 1;
  const escaped = counts.length - hist[maxIter]!;
  // lut[n] = palette index of count n from t = the fraction of escaped pixels that escaped
  // sooner: the fastest-escaping background gets the first colour, the rim of the set the last.
  // Squaring t keeps the few large low-count bands of a wide view in the blues and leaves most of
  // the gradient to the filaments.
  const lut = new Uint8Array(maxIter + 1);
  let sooner = 0;
  for (let n = 0; n < maxIter; n++) {
    const t = escaped > 0 ? sooner / escaped : 0;
    lut[n] = 1 + Math.min(254, Math.floor(t * t * 255));
    sooner += hist[n]!;
  }
  lut[maxIter] = 0;
  const out = new Uint8Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = lut[counts[i]!]!;
  return out;
}
