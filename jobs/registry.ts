import { echo } from './echo.js';
import { hpFold } from './hp-fold.js';
import { mandelbrot } from './mandelbrot.js';
import { odeSweep } from './ode-sweep.js';
import { pi } from './pi.js';
import { primes } from './primes.js';
import type { JobKind } from './types.js';

/** The built-in job kinds, by name. Every one of them runs in Node worker threads and in browsers. */
export const builtinKinds: ReadonlyMap<string, JobKind> = new Map<string, JobKind>(
  [pi, primes, mandelbrot, odeSweep, hpFold, echo].map((kind) => [kind.name, kind as JobKind]),
);

export function getBuiltinKind(name: string): JobKind | undefined {
  return builtinKinds.get(name);
}
