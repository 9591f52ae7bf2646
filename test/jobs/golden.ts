/**
 * Golden outputs of the built-in kinds: a fixed set of batch params per kind and the SHA-256 of
 * every work unit's encoded output, in work-unit order. They were recorded before the kinds were
 * rewritten for speed (issue 13: PRNG state in typed arrays) and pin the outputs byte for byte:
 * a faster kernel that changes one bit of one result is a different kind, not a faster one.
 * Re-record only for a deliberate new kind version: `SWARMGRID_RECORD_GOLDEN=1 npx vitest run test/jobs/golden.test.ts`.
 */
import { createHash } from 'node:crypto';
import { builtinKinds } from '../../jobs/registry.js';
import type { Json } from '../../jobs/types.js';
import { runEncoded } from './helpers.js';

/** Params per kind: small enough for a unit test, large enough to run every code path. */
export const GOLDEN_PARAMS: Record<string, Json[]> = {
  pi: [{ workUnits: 8, samplesPerUnit: 20_000, seed: 1 }, { workUnits: 4, samplesPerUnit: 1_000, seed: 4_294_967_290 }],
  primes: [{ from: 0, to: 2_000_000, unitSize: 500_000 }, { from: 999_000_000, to: 1_000_000_000, unitSize: 400_000 }],
  mandelbrot: [{ pixelsWide: 96, pixelsHigh: 64, tileSize: 32, maxIter: 500 }],
  'ode-sweep': [{ betaSteps: 4, gammaSteps: 3, pointsPerUnit: 4 }],
  'hp-fold': [{ sequence: 'HPHPPHHPHPPHPHHPPHPH', prefixLength: 3 }],
  echo: [{ workUnits: 6, payloadBytes: 1_000 }, { workUnits: 3, payloadBytes: 33 }],
};

/** `kind -> one digest list per params entry`. */
export function goldenDigests(): Record<string, string[][]> {
  const out: Record<string, string[][]> = {};
  for (const [name, list] of Object.entries(GOLDEN_PARAMS)) {
    const kind = builtinKinds.get(name)!;
    out[name] = list.map((params) => [...kind.generate!(params)].map((input) =>
      createHash('sha256').update(runEncoded(kind, input)).digest('hex').slice(0, 32)));
  }
  return out;
}
