/**
 * Custom job kinds as code bundles: one self-contained ES module, addressed by the SHA-256 of its
 * bytes and signed by the coordinator's key. `swarmgrid kind add` stores bundles in the `kinds`
 * table; the coordinator loads them from there, and workers fetch them by hash (CodeRequest →
 * CodeBundle) and check hash and signature before running anything.
 *
 * The coordinator runs the module itself too (inputs, generate, compare, reduce), so a bundle is
 * written to DATA/kinds/<hash>.mjs and imported from there: the file name pins the content, and a
 * module that imports files next to it fails to load here just as it would on a volunteer.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinKinds } from '../jobs/registry.js';
import type { JobKind } from '../jobs/types.js';
import type { swarmgrid } from '../proto/codec.js';
import { codeHash, signCodeHash } from '../proto/code-signature.js';
import { forgetDeclines } from './declines.js';
import { CoordinatorErrors } from './errors.js';
import type { GridStore, KindRow } from './store/index.js';
import { isWasmBundle, wasmJobKind } from './wasm-kinds.js';

/** Bundles travel in one frame (8 MiB by default): stay well below. */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

/** A stored kind's row (store/rows.ts). */
export type StoredKind = KindRow;

const invalidKind = CoordinatorErrors.INVALID_KIND;

/** Checks a module's default export against the job-kind contract (jobs/types.ts). */
export function checkJobKind(value: unknown): JobKind {
  if (value === null || typeof value !== 'object') throw invalidKind('the module must export a job kind object as its default export');
  const k = value as Record<string, unknown>;
  const fail = (what: string) => invalidKind(`job kind ${typeof k.name === 'string' ? `"${k.name}" ` : ''}${what}`);
  if (typeof k.name !== 'string' || !/^[a-z][a-z0-9-]{0,63}$/.test(k.name)) throw fail('needs a lower-case name (letters, digits, dashes)');
  if (builtinKinds.has(k.name)) throw fail('has the name of a built-in kind');
  if (typeof k.version !== 'string' || !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(k.version)) throw fail('needs a semantic version');
  if (typeof k.description !== 'string' || k.description.length === 0) throw fail('needs a description');
  if (k.output !== 'json' && k.output !== 'bytes') throw fail("needs output 'json' or 'bytes'");
  if (typeof k.validateInput !== 'function') throw fail('needs validateInput(input)');
  if (typeof k.run !== 'function') throw fail('needs run(input)');
  if (k.generate !== undefined && typeof k.generate !== 'function') throw fail('has a generate that is not a function');
  if (k.params !== undefined && !Array.isArray(k.params)) throw fail('has params that are not an array');
  const c = k.comparator as Record<string, unknown> | undefined;
  if (c !== undefined) {
    const ok = c !== null && typeof c === 'object' && (c.type === 'exact'
      || (c.type === 'tolerance' && typeof c.abs === 'number' && c.abs >= 0 && typeof c.rel === 'number' && c.rel >= 0)
      || (c.type === 'custom' && typeof c.compare === 'function'));
    if (!ok) throw fail("has an invalid comparator: { type: 'exact' }, { type: 'tolerance', abs, rel } or { type: 'custom', compare }");
  }
  const r = k.reducer as Record<string, unknown> | undefined;
  if (r !== undefined && (r === null || typeof r !== 'object' || ['init', 'add', 'finish'].some((m) => typeof r[m] !== 'function'))) {
    throw fail('has a reducer without init, add and finish');
  }
  return value as JobKind;
}

/** Writes a bundle to DATA/kinds/<hash>.mjs (atomically, once) and returns the path. */
export function materialize(dataDir: string, hash: Uint8Array, code: Uint8Array): string {
  const dir = join(dataDir, 'kinds');
  const path = join(dir, `${Buffer.from(hash).toString('hex')}.mjs`);
  try {
    if (codeHash(readFileSync(path)).equals(hash)) return path;
  } catch {
    // Not there yet.
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, path);
  return path;
}

/** Imports a materialized bundle and checks its default export. */
export async function importKind(path: string): Promise<JobKind> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    throw invalidKind(`the module does not load: ${(err as Error).message}`);
  }
  return checkJobKind(mod.default);
}

/**
 * The JobKind of a stored bundle, whichever its form: a WASM kind's bundle (wasm-kinds.ts) or a
 * JS module (materialized and imported).
 */
export async function loadBundle(dataDir: string, hash: Uint8Array, code: Uint8Array): Promise<JobKind> {
  return isWasmBundle(code) ? wasmJobKind(code, dataDir) : importKind(materialize(dataDir, hash, code));
}

/**
 * `swarmgrid kind add`: validates a module (or a WASM kind's bundle: wasm-kinds.ts), signs it with the coordinator key and stores it.
 * A kind of the same name is replaced (new batches use the new code; results of different
 * versions are never compared).
 */
export async function registerKind(opts: {
  store: GridStore;
  dataDir: string;
  keyPair: { publicKey: Uint8Array; secretKey: Uint8Array };
  code: Uint8Array;
}): Promise<{ kind: JobKind; hash: Buffer; replaced: StoredKind | undefined }> {
  if (opts.code.length === 0) throw invalidKind('the module is empty');
  if (opts.code.length > MAX_BUNDLE_BYTES) throw invalidKind(`the module is larger than ${MAX_BUNDLE_BYTES} bytes`);
  const hash = codeHash(opts.code);
  const kind = await loadBundle(opts.dataDir, hash, opts.code);
  const signature = signCodeHash(hash, opts.keyPair);
  const replaced = storedKind(opts.store, kind.name);
  opts.store.putKind({ name: kind.name, version: kind.version, code_hash: hash, code: Buffer.from(opts.code), signature, added_at: Date.now() });
  forgetDeclines(opts.store, kind.name);
  return { kind, hash, replaced };
}

export function storedKind(store: GridStore, name: string): StoredKind | undefined {
  return store.getKind(name);
}

export function storedKindHash(store: GridStore, name: string): Buffer | undefined {
  return store.getKindHash(name);
}

/** The names of the stored custom kinds (no code read). */
export function storedKindNames(store: GridStore): string[] {
  return store.kindNames();
}

/** Every stored kind in name order, read a few at a time as the caller iterates. */
export function storedKinds(store: GridStore): Iterable<StoredKind> {
  return store.kinds();
}

/** The frame a worker gets for a CodeRequest. */
export function bundleFrame(row: StoredKind): swarmgrid.ICodeBundle {
  return { codeHash: row.code_hash, kind: row.name, kindVersion: row.version, code: row.code, signature: row.signature };
}
