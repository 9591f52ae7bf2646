import { Xoshiro128 } from './prng.js';
import type { JobKind, Json } from './types.js';
import { asObject, intField } from './validate.js';

/** One work unit: throw `samples` darts at the unit square from PRNG stream `stream` of run `seed`. */
export interface PiInput {
  seed: number;
  stream: number;
  samples: number;
}

export interface PiOutput {
  samples: number;
  inside: number;
}

interface PiAcc {
  samples: number;
  inside: number;
  units: number;
}

const MAX_SAMPLES = 100_000_000;

export const pi: JobKind<PiInput, PiOutput, PiAcc> = {
  name: 'pi',
  // 2.0.0: unit i draws from stream (seed, i), no longer from seed + i, so that runs with
  // different seeds are independent (1.0.0's seeds 1 and 2 shared all but one stream).
  version: '2.0.0',
  description: 'Monte Carlo estimate of pi: darts in the unit square, counted inside the quarter circle.',
  output: 'json',
  comparator: { type: 'exact' },
  params: [
    { name: 'workUnits', type: 'integer', default: 1000, description: 'number of work units' },
    { name: 'samplesPerUnit', type: 'integer', default: 1_000_000, description: 'darts per work unit' },
    { name: 'seed', type: 'integer', default: 1, description: 'the run: work unit i draws from PRNG stream (seed, i); different seeds share no stream' },
  ],

  validateInput(input: unknown): PiInput {
    const obj = asObject(input, 'pi input');
    return {
      seed: intField(obj, 'seed', { min: 0, max: 0xffffffff }),
      stream: intField(obj, 'stream', { min: 0, max: 0xffffffff, default: 0 }),
      samples: intField(obj, 'samples', { min: 1, max: MAX_SAMPLES }),
    };
  },

  run({ seed, stream, samples }: PiInput): PiOutput {
    const rng = Xoshiro128.stream(seed, stream);
    let inside = 0;
    for (let i = 0; i < samples; i++) {
      const x = rng.nextFloat();
      const y = rng.nextFloat();
      if (x * x + y * y < 1) inside++;
    }
    return { samples, inside };
  },

  *generate(params: Json): Iterable<PiInput> {
    const obj = asObject(params ?? {}, 'pi params');
    const units = intField(obj, 'workUnits', { min: 1, max: 10_000_000, default: 1000 });
    const samples = intField(obj, 'samplesPerUnit', { min: 1, max: MAX_SAMPLES, default: 1_000_000 });
    const seed = intField(obj, 'seed', { min: 0, max: 0xffffffff, default: 1 });
    for (let i = 0; i < units; i++) yield { seed, stream: i, samples };
  },

  reducer: {
    init: () => ({ samples: 0, inside: 0, units: 0 }),
    add(acc, output) {
      acc.samples += output.samples;
      acc.inside += output.inside;
      acc.units += 1;
      return acc;
    },
    finish(acc) {
      const p = acc.samples > 0 ? acc.inside / acc.samples : 0;
      const estimate = 4 * p;
      // Binomial standard error of the hit fraction, scaled by 4.
      const stderr = acc.samples > 0 ? 4 * Math.sqrt((p * (1 - p)) / acc.samples) : 0;
      const body = { estimate, stderr, samples: acc.samples, inside: acc.inside, workUnits: acc.units };
      return {
        contentType: 'application/json',
        fileName: 'pi.json',
        bytes: new TextEncoder().encode(JSON.stringify(body, null, 2) + '\n'),
        summary: `pi ≈ ${estimate.toFixed(5)} ± ${stderr.toFixed(5)} (${acc.samples.toLocaleString('en-US')} samples)`,
      };
    },
  },
};
