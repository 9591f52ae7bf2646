/**
 * Work units of a WASM kind from batch params, by the manifest's declarative `units: sweep`
 * (docs/JOB-KINDS.md, "WASM kind manifest"): the cartesian product of the sweep axes (first
 * slowest), each point repeated per seed (innermost), the other params copied into every unit.
 * Lazy: a sweep of millions of points never sits in memory.
 */
import type { Json, ParamSpec } from './types.js';
import type { WasmManifest } from './wasm-manifest.js';

/** Most work units one sweep may make. */
export const MAX_SWEEP_UNITS = 10_000_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkValue(spec: ParamSpec, v: unknown): Json {
  const ok = spec.type === 'integer' ? Number.isSafeInteger(v)
    : spec.type === 'number' ? typeof v === 'number' && Number.isFinite(v)
      : typeof v === spec.type;
  if (!ok) throw new Error(`${spec.name} must be ${spec.type === 'integer' ? 'an integer' : `a ${spec.type}`}, got ${JSON.stringify(v)}`);
  return v as Json;
}

/**
 * How many values an axis has, checked, without making them: `{from,to,steps}` (steps), an array
 * (its length), or one value (1). Counting first lets a sweep of 10^12 points be refused before
 * anything of it is made.
 */
export function axisLength(spec: ParamSpec, v: unknown): number {
  if (Array.isArray(v)) {
    if (v.length === 0) throw new Error(`${spec.name} lists no values`);
    return v.length;
  }
  if (isObject(v)) {
    const { from, to, steps } = v;
    if (Object.keys(v).some((k) => k !== 'from' && k !== 'to' && k !== 'steps')) throw new Error(`${spec.name}: a range is { from, to, steps }`);
    if (typeof from !== 'number' || typeof to !== 'number' || !Number.isFinite(from) || !Number.isFinite(to)) throw new Error(`${spec.name}.from and .to must be finite numbers`);
    if (!Number.isSafeInteger(steps) || (steps as number) < 1) throw new Error(`${spec.name}.steps must be a positive integer`);
    return steps as number;
  }
  return 1;
}

/** One sweep axis: its length, and its i-th value, made (and type-checked) when first reached. */
export interface Axis {
  length: number;
  at(i: number): Json;
}

/**
 * An axis's values: `{from,to,steps}` (both ends included, 12 significant digits), an array, or
 * one value. A range is lazy: a 10-million-step axis is not 10 million numbers made before the first unit
 * (that took the coordinator's thread seconds, past the generator's watchdog on a loaded machine).
 */
export function axisOf(spec: ParamSpec, v: unknown): Axis {
  const length = axisLength(spec, v);
  // A bad value is refused before the first unit, not when the sweep reaches it (a batch would
  // be stored and dispatched up to there): an array's values are all checked now (the request
  // bounds its size); a range is monotonic and evenly stepped, so its ends and its second point
  // (an integer param's step must be whole) stand for every point.
  if (Array.isArray(v)) {
    const values = v.map((x) => checkValue(spec, x));
    return { length, at: (i) => values[i]! };
  }
  if (isObject(v)) {
    const { from, to } = v as { from: number; to: number };
    const at = (i: number) => checkValue(spec, Number((length === 1 ? from : from + ((to - from) * i) / (length - 1)).toPrecision(12)));
    for (const i of new Set([0, Math.min(1, length - 1), length - 1])) at(i);
    return { length, at };
  }
  const one = checkValue(spec, v);
  return { length, at: () => one };
}

/**
 * The units of a batch. Throws an Error naming the param for an unknown param, a value of the
 * wrong type, or a sweep of more than MAX_SWEEP_UNITS units.
 */
export function* sweepUnits(manifest: WasmManifest, params: Json): Iterable<Json> {
  if (manifest.units?.type !== 'sweep') throw new Error(`kind ${manifest.name} has no declarative sweep`);
  const given = params ?? {};
  if (!isObject(given)) throw new Error('params must be an object');
  const specs = new Map(manifest.params.map((p) => [p.name, p]));
  for (const k of Object.keys(given)) if (!specs.has(k)) throw new Error(`unknown param ${k}`);
  const value = (name: string) => (given[name] !== undefined ? given[name] : specs.get(name)!.default);
  const sweep = manifest.units.sweep ?? [];
  const seeds = manifest.units.seeds;
  let count = 1;
  if (seeds) {
    const c = value(seeds.count);
    if (!Number.isSafeInteger(c) || (c as number) < 1) throw new Error(`${seeds.count} must be a positive integer`);
    count = c as number;
  }
  // Counted before any axis is made: { steps: 1e12 } must not be 10^12 numbers in memory first.
  const total = sweep.reduce((n, name) => n * axisLength(specs.get(name)!, value(name)), count);
  if (total > MAX_SWEEP_UNITS) throw new Error(`the sweep makes ${total} work units, more than ${MAX_SWEEP_UNITS}`);
  const axes = sweep.map((name) => ({ name, axis: axisOf(specs.get(name)!, value(name)) }));
  const fixed: Record<string, Json> = {};
  for (const spec of manifest.params) {
    if (sweep.includes(spec.name) || spec.name === seeds?.count) continue;
    const v = value(spec.name);
    if (v !== undefined) fixed[spec.name] = checkValue(spec, v);
  }
  const index = axes.map(() => 0);
  for (let made = 0; made < total; made += count) {
    const point: Record<string, Json> = { ...fixed };
    axes.forEach((a, i) => { point[a.name] = a.axis.at(index[i]!); });
    for (let s = 0; s < count; s++) yield seeds ? { ...point, [seeds.field]: s } : { ...point };
    // Odometer: the last axis turns fastest.
    for (let i = axes.length - 1; i >= 0; i--) {
      index[i]!++;
      if (index[i]! < axes[i]!.axis.length) break;
      index[i] = 0;
    }
  }
}
