/**
 * The manifest of a WASM job kind (`kind.json`, docs/JOB-KINDS.md "WASM kind manifest"): what the
 * grid needs to know about a WASI command module to run it as a job kind — its name and version,
 * its batch params, how batch params become work units, how outputs are compared and reduced, and
 * its limits. Isomorphic (no Node built-ins): the coordinator, the CLI, node workers and the
 * browser read the same manifest with the same code.
 */
import type { Json, ParamSpec } from './types.js';

/** One WebAssembly page is 64 KiB. */
export const WASM_PAGE_BYTES = 65536;
/** Default memory cap: 256 MiB. */
export const DEFAULT_MEMORY_PAGES = 4096;
/** Hard ceiling of any manifest: 2 GiB (what wasm32 modules can address in every browser). */
export const MAX_MEMORY_PAGES = 32768;

/** A sweep axis in batch params: `steps` values from `from` to `to`, both included. */
export interface RangeAxis {
  from: number;
  to: number;
  steps: number;
}

export type WasmOutput = 'json' | 'text' | 'bytes';

export type WasmUnits =
  /**
   * Declarative: the cartesian product of the `sweep` params' values (first slowest), each point
   * repeated for seeds 0 … count-1 when `seeds` is set; every other declared param is copied into
   * each unit as it is.
   */
  | { type: 'sweep'; sweep?: string[]; seeds?: { field: string; count: string } }
  /** A JS module (coordinator side only) whose default export is `generate(params)`: an iterable of inputs. */
  | { type: 'module'; module: string };

export type WasmReduce =
  /** One CSV row per work unit; `columns` named from output fields first, then input fields. */
  | { type: 'csv'; columns?: string[]; fileName?: string }
  /** One line per work unit: `{"seq","input","output"}`. */
  | { type: 'ndjson'; fileName?: string }
  /** A JS module (coordinator side only) whose default export is a Reducer (jobs/types.ts). */
  | { type: 'module'; module: string };

export interface WasmManifest {
  name: string;
  version: string;
  description: string;
  /** How stdout becomes the task's output. @defaultValue 'json' */
  output: WasmOutput;
  params: ParamSpec[];
  /** @defaultValue { type: 'exact' } */
  comparator: { type: 'exact' } | { type: 'tolerance'; abs: number; rel: number };
  limits: {
    /** Most linear memory the module may have, in 64 KiB pages. @defaultValue 4096 (256 MiB) */
    memoryPages: number;
    /** Wall-time limit of one task in ms, used when the batch policy sets none (0 = none). @defaultValue 0 */
    timeoutMs: number;
  };
  /** How batch params become work units; without it a batch must send its inputs. */
  units?: WasmUnits;
  /** @defaultValue { type: 'ndjson' } */
  reduce: WasmReduce;
}

const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const VERSION = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MODULE_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.m?js$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(where: string, v: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new Error(`${where} has an unknown field "${k}" (allowed: ${allowed.join(', ')})`);
}

/**
 * Checks a parsed `kind.json` and fills in defaults. Throws an Error whose message names the
 * field that is wrong; unknown fields are errors too (a misspelt `limts` is never ignored).
 */
export function parseWasmManifest(value: unknown): WasmManifest {
  if (!isObject(value)) throw new Error('the manifest must be a JSON object');
  onlyKeys('the manifest', value, ['name', 'version', 'description', 'output', 'params', 'comparator', 'limits', 'units', 'reduce']);
  const m = value;
  if (typeof m.name !== 'string' || !NAME.test(m.name)) throw new Error('name must be lower-case letters, digits and dashes, starting with a letter (at most 64)');
  if (typeof m.version !== 'string' || !VERSION.test(m.version)) throw new Error('version must be a semantic version, e.g. "1.0.0"');
  if (typeof m.description !== 'string' || m.description.length === 0) throw new Error('description must be a non-empty string');
  const output = m.output ?? 'json';
  if (output !== 'json' && output !== 'text' && output !== 'bytes') throw new Error('output must be "json", "text" or "bytes"');
  const params = parseParams(m.params);
  const comparator = parseComparator(m.comparator, output);
  const limits = parseLimits(m.limits);
  const units = m.units === undefined ? undefined : parseUnits(m.units, params);
  const reduce = parseReduce(m.reduce);
  return { name: m.name, version: m.version, description: m.description, output, params, comparator, limits, ...(units && { units }), reduce };
}

function parseParams(v: unknown): ParamSpec[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error('params must be an array of { name, type, default?, description }');
  const seen = new Set<string>();
  return v.map((p, i) => {
    const where = `params[${i}]`;
    if (!isObject(p)) throw new Error(`${where} must be an object`);
    onlyKeys(where, p, ['name', 'type', 'default', 'description']);
    if (typeof p.name !== 'string' || !FIELD.test(p.name)) throw new Error(`${where}.name must be an identifier (letters, digits, _)`);
    if (seen.has(p.name)) throw new Error(`${where}: param "${p.name}" is declared twice`);
    seen.add(p.name);
    if (p.type !== 'integer' && p.type !== 'number' && p.type !== 'string' && p.type !== 'boolean') throw new Error(`${where}.type must be integer, number, string or boolean`);
    if (typeof p.description !== 'string') throw new Error(`${where}.description must be a string`);
    const spec: ParamSpec = { name: p.name, type: p.type, description: p.description };
    if (p.default !== undefined) spec.default = p.default as Json;
    return spec;
  });
}

function parseComparator(v: unknown, output: WasmOutput): WasmManifest['comparator'] {
  if (v === undefined) return { type: 'exact' };
  if (!isObject(v)) throw new Error('comparator must be { "type": "exact" } or { "type": "tolerance", "abs": n, "rel": n }');
  if (v.type === 'exact') {
    onlyKeys('comparator', v, ['type']);
    return { type: 'exact' };
  }
  if (v.type === 'tolerance') {
    onlyKeys('comparator', v, ['type', 'abs', 'rel']);
    if (output !== 'json') throw new Error('a tolerance comparator needs output "json"');
    const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (!ok(v.abs) || !ok(v.rel)) throw new Error('comparator.abs and comparator.rel must be numbers ≥ 0');
    return { type: 'tolerance', abs: v.abs as number, rel: v.rel as number };
  }
  throw new Error('comparator.type must be "exact" or "tolerance"');
}

function parseLimits(v: unknown): WasmManifest['limits'] {
  if (v === undefined) return { memoryPages: DEFAULT_MEMORY_PAGES, timeoutMs: 0 };
  if (!isObject(v)) throw new Error('limits must be an object { memoryPages?, timeoutMs? }');
  onlyKeys('limits', v, ['memoryPages', 'timeoutMs']);
  const memoryPages = v.memoryPages ?? DEFAULT_MEMORY_PAGES;
  if (!Number.isInteger(memoryPages) || (memoryPages as number) < 1 || (memoryPages as number) > MAX_MEMORY_PAGES) {
    throw new Error(`limits.memoryPages must be an integer from 1 to ${MAX_MEMORY_PAGES} (64 KiB pages)`);
  }
  const timeoutMs = v.timeoutMs ?? 0;
  if (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 0 || (timeoutMs as number) > 86_400_000) throw new Error('limits.timeoutMs must be an integer from 0 to 86400000');
  return { memoryPages: memoryPages as number, timeoutMs: timeoutMs as number };
}

function parseUnits(v: unknown, params: ParamSpec[]): WasmUnits {
  if (!isObject(v)) throw new Error('units must be { "type": "sweep", … } or { "type": "module", "module": "generate.mjs" }');
  if (v.type === 'module') {
    onlyKeys('units', v, ['type', 'module']);
    if (typeof v.module !== 'string' || !MODULE_FILE.test(v.module)) throw new Error('units.module must be a .mjs/.js file name next to the manifest');
    return { type: 'module', module: v.module };
  }
  if (v.type !== 'sweep') throw new Error('units.type must be "sweep" or "module"');
  onlyKeys('units', v, ['type', 'sweep', 'seeds']);
  const names = new Set(params.map((p) => p.name));
  const sweep = v.sweep ?? [];
  if (!Array.isArray(sweep) || sweep.some((s) => typeof s !== 'string' || !names.has(s))) throw new Error('units.sweep must list declared params');
  if (new Set(sweep).size !== sweep.length) throw new Error('units.sweep lists a param twice');
  const units: WasmUnits = { type: 'sweep', sweep: sweep as string[] };
  if (v.seeds !== undefined) {
    if (!isObject(v.seeds)) throw new Error('units.seeds must be { "field": name in each unit, "count": a declared integer param }');
    onlyKeys('units.seeds', v.seeds, ['field', 'count']);
    const { field, count } = v.seeds;
    if (typeof field !== 'string' || !FIELD.test(field)) throw new Error('units.seeds.field must be an identifier');
    if (names.has(field)) throw new Error(`units.seeds.field "${field}" is also a param`);
    const countSpec = params.find((p) => p.name === count);
    if (!countSpec || countSpec.type !== 'integer') throw new Error('units.seeds.count must name a declared integer param');
    if ((sweep as string[]).includes(count as string)) throw new Error('units.seeds.count cannot be a sweep axis');
    units.seeds = { field, count: count as string };
  }
  return units;
}

function parseReduce(v: unknown): WasmReduce {
  if (v === undefined) return { type: 'ndjson' };
  if (!isObject(v)) throw new Error('reduce must be { "type": "csv" | "ndjson" | "module", … }');
  const fileName = v.fileName;
  if (fileName !== undefined && (typeof fileName !== 'string' || !FILE_NAME.test(fileName))) throw new Error('reduce.fileName must be a plain file name');
  if (v.type === 'csv') {
    onlyKeys('reduce', v, ['type', 'columns', 'fileName']);
    const columns = v.columns;
    if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0 || columns.some((c) => typeof c !== 'string' || !/^(input\.|output\.)?[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(c)))) {
      throw new Error('reduce.columns must be field names (optionally "input.x" / "output.x")');
    }
    return { type: 'csv', ...(columns !== undefined && { columns: columns as string[] }), ...(fileName !== undefined && { fileName: fileName as string }) };
  }
  if (v.type === 'ndjson') {
    onlyKeys('reduce', v, ['type', 'fileName']);
    return { type: 'ndjson', ...(fileName !== undefined && { fileName: fileName as string }) };
  }
  if (v.type === 'module') {
    onlyKeys('reduce', v, ['type', 'module']);
    if (typeof v.module !== 'string' || !MODULE_FILE.test(v.module)) throw new Error('reduce.module must be a .mjs/.js file name next to the manifest');
    return { type: 'module', module: v.module };
  }
  throw new Error('reduce.type must be "csv", "ndjson" or "module"');
}

/**
 * The module's argv for one work unit: the kind's name, then `key=value` for each top-level
 * number, string or boolean of an object input, in sorted key order (numbers as JS prints them).
 */
export function unitArgs(kindName: string, input: unknown): string[] {
  const args = [kindName];
  if (isObject(input)) {
    for (const key of Object.keys(input).sort()) {
      const v = input[key];
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') args.push(`${key}=${String(v)}`);
    }
  }
  return args;
}
