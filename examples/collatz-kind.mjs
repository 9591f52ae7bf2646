// A complete custom job kind for swarmgrid: the longest Collatz chain in a range.
//
//   swarmgrid kind add examples/collatz-kind.mjs --data COORDINATOR_DATA_DIR
//
// A job kind is one self-contained ES module whose default export is a plain object. It is
// shipped to volunteers by content hash and runs in Node worker threads *and* browser Web
// Workers, so it must be:
//   - pure:          run() depends on its input only (no network, files, clock, globals);
//   - deterministic: same input -> same output bytes on every engine (no Math.random, no Date;
//                    integer arithmetic, or floats restricted to + - * /);
//   - isomorphic:    no imports of Node built-ins, no Buffer, no process; best no imports at all.
// See docs/JOB-KINDS.md for the contract in full.

const MAX_UNIT = 100_000_000;
const MAX_START = 1e12;
// Above this, 3n + 1 may leave the exactly representable integers: continue in BigInt.
const SAFE_LIMIT = Math.floor((Number.MAX_SAFE_INTEGER - 1) / 3);

/** Collatz steps from n down to 1. */
function chainLength(n) {
  let steps = 0;
  while (n !== 1) {
    if (n > SAFE_LIMIT) return steps + chainLengthBig(BigInt(n));
    n = n % 2 === 0 ? n / 2 : 3 * n + 1;
    steps++;
  }
  return steps;
}

function chainLengthBig(n) {
  let steps = 0;
  while (n !== 1n) {
    n = n % 2n === 0n ? n / 2n : 3n * n + 1n;
    steps++;
  }
  return steps;
}

/** Field checks that name the field, like the built-in kinds do. */
function integer(obj, name, min, max, fallback) {
  const v = obj[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${name} must be an integer`);
  if (v < min) throw new Error(`${name} must be >= ${min}`);
  if (v > max) throw new Error(`${name} must be <= ${max}`);
  return v;
}

function object(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} must be an object`);
  return value;
}

export default {
  name: 'collatz',
  version: '1.0.0',
  description: 'Longest Collatz chain (steps to reach 1) for starting values in [from, to).',
  // run() returns JSON; it travels as canonical JSON (sorted keys), so equal results are equal bytes.
  output: 'json',
  // Integers only: results must match exactly. (A float-heavy kind would use
  // { type: 'tolerance', abs, rel }, or { type: 'custom', compare(a, b) } for anything else.)
  comparator: { type: 'exact' },
  params: [
    { name: 'from', type: 'integer', default: 1, description: 'first starting value (inclusive, >= 1)' },
    { name: 'to', type: 'integer', default: 10_000_000, description: 'last starting value (exclusive)' },
    { name: 'unitSize', type: 'integer', default: 1_000_000, description: 'starting values per work unit' },
  ],

  /** Called by the worker on every input before run(): throw an Error naming the bad field. */
  validateInput(input) {
    const obj = object(input, 'collatz input');
    const from = integer(obj, 'from', 1, MAX_START);
    const to = integer(obj, 'to', from + 1, MAX_START + 1);
    if (to - from > MAX_UNIT) throw new Error(`to - from must be <= ${MAX_UNIT}`);
    return { from, to };
  },

  /** The computation: one work unit. Ties go to the smallest start, so the answer is unique. */
  run({ from, to }) {
    let best = from;
    let bestSteps = -1;
    for (let n = from; n < to; n++) {
      const s = chainLength(n);
      if (s > bestSteps) {
        best = n;
        bestSteps = s;
      }
    }
    return { from, to, start: best, steps: bestSteps };
  },

  /** Batch params -> work-unit inputs, lazily: a generator never holds the whole batch. */
  *generate(params) {
    const obj = object(params ?? {}, 'collatz params');
    const from = integer(obj, 'from', 1, MAX_START, 1);
    const to = integer(obj, 'to', from + 1, MAX_START + 1, 10_000_000);
    const unitSize = integer(obj, 'unitSize', 1, MAX_UNIT, 1_000_000);
    for (let lo = from; lo < to; lo += unitSize) yield { from: lo, to: Math.min(to, lo + unitSize) };
  },

  /** Folds canonical results in work-unit order into the artifact; the accumulator stays tiny. */
  reducer: {
    init: () => ({ from: null, to: null, start: null, steps: -1, units: 0 }),
    add(acc, output) {
      acc.from ??= output.from;
      acc.to = output.to;
      acc.units += 1;
      // Strictly longer only: an equal chain in a later unit has a larger start.
      if (output.steps > acc.steps) {
        acc.start = output.start;
        acc.steps = output.steps;
      }
      return acc;
    },
    finish(acc) {
      const body = { from: acc.from, to: acc.to, start: acc.start, steps: acc.steps, workUnits: acc.units };
      return {
        contentType: 'application/json',
        fileName: 'collatz.json',
        bytes: new TextEncoder().encode(JSON.stringify(body, null, 2) + '\n'),
        summary: `longest Collatz chain in [${acc.from}, ${acc.to}): ${acc.start} takes ${acc.steps} steps`,
      };
    },
  },
};
