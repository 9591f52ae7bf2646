/**
 * The worker's code cache: custom job kinds by the SHA-256 of their module. A bundle is fetched
 * from the coordinator whose task names it, and written to disk only after its bytes match the
 * hash and its signature verifies against that coordinator's key (the Noise key of the
 * connection). Files are named by hash, so a cached module can be reused by any coordinator that
 * names the same hash, and is checked against its name again when first used in this process.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storageError } from '../coordinator/storage-errors.js';
import type { swarmgrid } from '../proto/codec.js';
import { isWasmBundle } from '../jobs/wasm-bundle.js';
import { codeHash, verifyCodeHash } from './code-signature.js';
import { WorkerErrors } from './errors.js';

/** Where bundles come from: one coordinator link. */
export interface CodeSource {
  /** The coordinator's public key, hex. */
  readonly key: string;
  requestCode(hash: Uint8Array): Promise<swarmgrid.ICodeBundle>;
}

export class CodeCache {
  readonly dir: string;
  #ready = new Map<string, Promise<string>>();
  #wasm = new Map<string, boolean>();

  constructor(options: { dir: string }) {
    this.dir = options.dir;
  }

  /** The path of the verified module with this hash, fetching it from `source` if needed. */
  obtain(source: CodeSource, hash: Uint8Array, kind: string): Promise<string> {
    const hex = Buffer.from(hash).toString('hex');
    let ready = this.#ready.get(hex);
    if (!ready) {
      ready = this.#load(source, Buffer.from(hash), hex, kind);
      this.#ready.set(hex, ready);
      // A failed fetch is not remembered: the next task (or another coordinator) tries again.
      ready.catch(() => this.#ready.delete(hex));
    }
    return ready;
  }

  /** Whether the verified bundle at `path` (from obtain) is a WASM kind's (jobs/wasm-bundle.ts). */
  isWasm(path: string): boolean {
    let known = this.#wasm.get(path);
    if (known === undefined) {
      known = isWasmBundle(readFileSync(path).subarray(0, 16));
      this.#wasm.set(path, known);
    }
    return known;
  }

  async #load(source: CodeSource, hash: Buffer, hex: string, kind: string): Promise<string> {
    if (hash.length !== 32) throw WorkerErrors.CODE_HASH_MISMATCH(kind);
    const path = join(this.dir, `${hex}.mjs`);
    try {
      if (codeHash(readFileSync(path)).equals(hash)) return path;
    } catch {
      // Not cached yet.
    }
    let bundle: swarmgrid.ICodeBundle;
    try {
      bundle = await source.requestCode(hash);
    } catch (err) {
      throw WorkerErrors.CODE_UNAVAILABLE(kind, (err as Error).message);
    }
    const code = bundle.code ?? new Uint8Array(0);
    if (!codeHash(code).equals(hash)) throw WorkerErrors.CODE_HASH_MISMATCH(kind);
    if (!verifyCodeHash(hash, bundle.signature ?? new Uint8Array(0), Buffer.from(source.key, 'hex'))) throw WorkerErrors.CODE_SIGNATURE(kind);
    // Atomic: a concurrent worker process sharing the cache never imports half a file. A full or
    // failing disk is this machine's fault, not the code's: coded as a storage error, which the
    // agent answers by handing the task back, never by declining the kind.
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, code);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw storageError(err, path);
    }
    return path;
  }
}
