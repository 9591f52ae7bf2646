/**
 * WASM kinds at the coordinator: `swarmgrid kind add model.wasm --manifest kind.json` checks the
 * module and the manifest, packs them (with the JS generator/reducer modules the manifest names)
 * into one bundle (jobs/wasm-bundle.ts), and stores it through the very path JS kinds take
 * (code-bundles.ts: hashed, signed with the coordinator key, in the `kinds` table). The
 * coordinator turns a stored bundle into a JobKind: inputs, units and reduction from the
 * manifest; `run` happens on volunteers only.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinKinds } from '../jobs/registry.js';
import type { JobKind, Json, Reducer } from '../jobs/types.js';
import { isWasmBundle, packWasmBundle, unpackWasmBundle, type WasmBundle } from '../jobs/wasm-bundle.js';
import { parseWasmManifest, type WasmManifest } from '../jobs/wasm-manifest.js';
import { capMemory, compileChecked, WasmModuleError } from '../jobs/wasm-module.js';
import { csvReducer, ndjsonReducer } from '../jobs/wasm-reduce.js';
import { sweepUnits } from '../jobs/wasm-units.js';
import { codeHash } from '../proto/code-signature.js';
import { CoordinatorErrors } from './errors.js';

export { isWasmBundle };

/**
 * Checks a module and a parsed manifest and packs the bundle `kind add` stores. `scripts` holds
 * the JS modules the manifest names, by file name. Throws GRID_ERR_WASM_MANIFEST,
 * GRID_ERR_WASM_MODULE, GRID_ERR_WASM_IMPORT or GRID_ERR_WASM_EXPORT.
 */
export async function packWasmKind(opts: { module: Uint8Array; manifest: unknown; scripts: Record<string, Uint8Array> }): Promise<Uint8Array> {
  let manifest: WasmManifest;
  try {
    manifest = parseWasmManifest(opts.manifest);
  } catch (err) {
    throw CoordinatorErrors.WASM_MANIFEST((err as Error).message);
  }
  if (builtinKinds.has(manifest.name)) throw CoordinatorErrors.WASM_MANIFEST(`"${manifest.name}" is the name of a built-in kind`);
  const wanted = scriptNames(manifest);
  for (const name of wanted) if (!opts.scripts[name]) throw CoordinatorErrors.WASM_MANIFEST(`the manifest names ${name}, which was not given`);
  try {
    await compileChecked(capMemory(opts.module, manifest.limits.memoryPages));
  } catch (err) {
    if (!(err instanceof WasmModuleError)) throw err;
    if (err.reason === 'import') throw CoordinatorErrors.WASM_IMPORT(err.message);
    if (err.reason === 'export') throw CoordinatorErrors.WASM_EXPORT(err.message);
    throw CoordinatorErrors.WASM_MODULE(err.message);
  }
  const scripts = Object.fromEntries(wanted.map((n) => [n, opts.scripts[n]!]));
  return packWasmBundle({ manifest, module: opts.module, scripts });
}

/** The JS files a manifest names (coordinator-side generator and reducer). */
export function scriptNames(manifest: WasmManifest): string[] {
  const names: string[] = [];
  if (manifest.units?.type === 'module') names.push(manifest.units.module);
  if (manifest.reduce.type === 'module' && !names.includes(manifest.reduce.module)) names.push(manifest.reduce.module);
  return names;
}

/** Writes a bundle's script to DATA/kinds/<hash>-<name> (atomically, once) and imports it. */
async function importScript(dataDir: string, hash: Buffer, name: string, code: Uint8Array): Promise<Record<string, unknown>> {
  const dir = join(dataDir, 'kinds');
  const path = join(dir, `${hash.toString('hex')}-${name.replace(/\.js$/, '.mjs')}`);
  let current: Buffer | undefined;
  try {
    current = readFileSync(path);
  } catch {
    // Not written yet.
  }
  if (!current || !codeHash(current).equals(codeHash(code))) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, path);
  }
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw CoordinatorErrors.WASM_MANIFEST(`${name} does not load: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The coordinator's JobKind for a stored WASM bundle. */
export async function wasmJobKind(code: Uint8Array, dataDir: string): Promise<JobKind> {
  let bundle: WasmBundle;
  try {
    bundle = unpackWasmBundle(code);
  } catch (err) {
    throw CoordinatorErrors.WASM_MANIFEST((err as Error).message);
  }
  const { manifest } = bundle;
  const hash = codeHash(code);
  const specs = new Map(manifest.params.map((p) => [p.name, p]));
  let generate: ((params: Json) => Iterable<unknown>) | undefined;
  if (manifest.units?.type === 'sweep') generate = (params) => sweepUnits(manifest, params);
  else if (manifest.units?.type === 'module') {
    const mod = await importScript(dataDir, hash, manifest.units.module, bundle.scripts[manifest.units.module]!);
    const g = mod.default ?? mod.generate;
    if (typeof g !== 'function') throw CoordinatorErrors.WASM_MANIFEST(`${manifest.units.module} must export a generate(params) function as its default export`);
    // The manifest's defaults filled in, as for a sweep and as the dry run shows the params: a
    // scientist who declared `step` with a default must not get undefined in generate().
    const defaults = Object.fromEntries(manifest.params.filter((p) => p.default !== undefined).map((p) => [p.name, p.default!]));
    generate = (params) => (g as (params: Json) => Iterable<unknown>)({ ...defaults, ...(isObject(params) ? params : {}) });
  }
  let reducer: Reducer<any, any, any>;
  if (manifest.reduce.type === 'csv') reducer = csvReducer(manifest, manifest.reduce.columns, manifest.reduce.fileName ?? `${manifest.name}.csv`);
  else if (manifest.reduce.type === 'ndjson') reducer = ndjsonReducer(manifest, manifest.reduce.fileName ?? `${manifest.name}.ndjson`);
  else {
    const mod = await importScript(dataDir, hash, manifest.reduce.module, bundle.scripts[manifest.reduce.module]!);
    const r = mod.default as Record<string, unknown> | undefined;
    if (!isObject(r) || ['init', 'add', 'finish'].some((m) => typeof r[m] !== 'function')) {
      throw CoordinatorErrors.WASM_MANIFEST(`${manifest.reduce.module} must export a reducer { init, add, finish } as its default export`);
    }
    reducer = r as unknown as Reducer<any, any, any>;
  }
  return {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    output: manifest.output === 'json' ? 'json' : 'bytes',
    comparator: manifest.comparator,
    params: manifest.params,
    reducer,
    sandbox: { type: 'wasm', timeoutMs: manifest.limits.timeoutMs },
    ...(generate && { generate }),
    validateInput(input: unknown) {
      // Any JSON reaches the module on stdin; the fields it declares as params must have their type.
      if (isObject(input)) {
        for (const [k, v] of Object.entries(input)) {
          const spec = specs.get(k);
          if (!spec || v === null || typeof v === 'object') continue;
          const ok = spec.type === 'integer' ? Number.isSafeInteger(v) : spec.type === 'number' ? typeof v === 'number' : typeof v === spec.type;
          if (!ok) throw new Error(`${k} must be ${spec.type === 'integer' ? 'an integer' : `a ${spec.type}`}`);
        }
      }
      return input;
    },
    run() {
      throw new Error(`WASM kind ${manifest.name} runs on volunteers only`);
    },
  };
}
