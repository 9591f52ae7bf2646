/**
 * The job kinds a coordinator offers: the built-in ones, plus custom kinds an operator
 * registered (`swarmgrid kind add`), which workers fetch as signed code bundles.
 *
 * Custom kinds live in the store's `kinds` table, which `swarmgrid kind add` writes while the
 * coordinator runs: they are loaded on start, and the table is consulted again whenever a batch
 * names a kind (one indexed lookup per submission), so a new or replaced kind is picked up
 * without a restart.
 */
import { builtinKinds } from '../jobs/registry.js';
import type { JobKind } from '../jobs/types.js';
import type { swarmgrid } from '../proto/codec.js';
import { codeHash } from '../proto/code-signature.js';
import { bundleFrame, loadBundle, storedKind, storedKindHash, storedKindNames, storedKinds, type StoredKind } from './code-bundles.js';
import type { GridStore } from './store/index.js';

export interface CatalogEntry {
  kind: JobKind;
  /** SHA-256 of the code bundle for custom kinds; null for built-ins. */
  codeHash: Buffer | null;
}

export interface KindCatalogOptions {
  /** Without a store only the built-in kinds exist. */
  store?: GridStore;
  /** Where bundles are written to be imported (DATA/kinds/). */
  dataDir?: string;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export class KindCatalog {
  #custom = new Map<string, CatalogEntry>();
  /** Every bundle loaded in this run, by hash: running batches keep a kind that was replaced since. */
  #bundles = new Map<string, swarmgrid.ICodeBundle>();
  #loading = new Map<string, Promise<CatalogEntry | undefined>>();
  /** Hashes of stored bundles that failed to load (at most 1,024 remembered). */
  #failedHashes = new Set<string>();
  #opts: KindCatalogOptions;

  constructor(options: KindCatalogOptions = {}) {
    this.#opts = options;
  }

  get(name: string): CatalogEntry | undefined {
    const builtin = builtinKinds.get(name);
    if (builtin) return { kind: builtin, codeHash: null };
    return this.#custom.get(name);
  }

  addCustom(entry: CatalogEntry, bundle?: swarmgrid.ICodeBundle): void {
    this.#custom.set(entry.kind.name, entry);
    if (entry.codeHash && bundle) this.#bundles.set(entry.codeHash.toString('hex'), bundle);
  }

  list(): CatalogEntry[] {
    return [...[...builtinKinds.values()].map((kind) => ({ kind, codeHash: null })), ...this.#custom.values()];
  }

  /** The signed bundle with this hash, for a worker's CodeRequest. */
  bundle(hash: Uint8Array): swarmgrid.ICodeBundle | undefined {
    return this.#bundles.get(Buffer.from(hash).toString('hex'));
  }

  /** Loads every stored custom kind (on start). A kind that fails to load is logged and skipped. */
  async load(): Promise<void> {
    if (!this.#opts.store) return;
    for (const row of storedKinds(this.#opts.store)) await this.#loadRow(row);
  }

  /**
   * Every kind, custom kinds added or replaced with `swarmgrid kind add` since start included
   * (`GET /v1/kinds`: a scientist lists a kind right after adding it, before any batch names it).
   */
  async listCurrent(): Promise<CatalogEntry[]> {
    if (this.#opts.store) for (const name of storedKindNames(this.#opts.store)) await this.resolve(name);
    return this.list();
  }

  /** The kind a batch names: from memory, or from the store when it is new or was replaced. */
  async resolve(name: string): Promise<CatalogEntry | undefined> {
    const known = this.get(name);
    if (builtinKinds.has(name) || !this.#opts.store) return known;
    const hash = storedKindHash(this.#opts.store, name);
    if (!hash || (known?.codeHash && known.codeHash.equals(hash))) return known;
    const key = hash.toString('hex');
    // A bundle that failed to load fails again: not re-read, re-checked and logged on every
    // GET /v1/kinds until `kind add` stores other code (another hash).
    if (this.#failedHashes.has(key)) return known;
    let loading = this.#loading.get(key);
    if (!loading) {
      const row = storedKind(this.#opts.store, name);
      // A replacement that fails to load leaves the previous version in service.
      loading = row ? this.#loadRow(row).then((e) => {
        if (!e) {
          if (this.#failedHashes.size >= 1024) this.#failedHashes.clear();
          this.#failedHashes.add(key);
        }
        return e ?? known;
      }) : Promise.resolve(known);
      this.#loading.set(key, loading);
      void loading.finally(() => this.#loading.delete(key));
    }
    return loading;
  }

  async #loadRow(row: StoredKind): Promise<CatalogEntry | undefined> {
    const log = this.#opts.log ?? (() => {});
    const hash = Buffer.from(row.code_hash);
    try {
      // The table is only written by `kind add`, but a bundle that no longer matches its hash
      // would be refused by every worker: better to find out here.
      if (!codeHash(row.code).equals(hash)) throw new Error('stored code does not match its hash');
      if (!this.#opts.dataDir) throw new Error('no data directory to load custom kinds from');
      const kind = await loadBundle(this.#opts.dataDir, hash, row.code);
      if (kind.name !== row.name) throw new Error(`module exports kind "${kind.name}", stored as "${row.name}"`);
      const entry = { kind, codeHash: hash };
      this.addCustom(entry, bundleFrame(row));
      log('kind-loaded', { kind: kind.name, version: kind.version, hash: hash.toString('hex') });
      return entry;
    } catch (err) {
      log('kind-load-failed', { kind: row.name, hash: hash.toString('hex'), error: (err as Error).message });
      return undefined;
    }
  }
}
