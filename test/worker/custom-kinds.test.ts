/** The coordinator's side of custom kinds: registering, loading, replacing, serving bundles. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import DHT from 'hyperdht';
import { afterAll, describe, expect, it } from 'vitest';
import { registerKind } from '../../coordinator/code-bundles.js';
import { declinedKinds, recordDecline } from '../../coordinator/declines.js';
import { KindCatalog } from '../../coordinator/kind-catalog.js';
import { SqliteStore } from '../../coordinator/store/index.js';
import { codeHash, verifyCodeHash } from '../../proto/code-signature.js';
import { tamperStore } from '../helpers/sqlite.js';
import { COLLATZ } from './helpers.js';

describe('custom kinds in the coordinator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-kinds-'));
  const store = new SqliteStore({ dataDir: dir });
  const keyPair = DHT.keyPair();
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads stored kinds, picks up a replacement on the next resolve, and keeps serving the old bundle', async () => {
    const v1 = readFileSync(COLLATZ);
    await registerKind({ store, dataDir: dir, keyPair, code: v1 });
    const catalog = new KindCatalog({ store, dataDir: dir });
    await catalog.load();
    const first = catalog.get('collatz')!;
    expect(first.kind.version).toBe('1.0.0');
    expect(first.codeHash).toEqual(codeHash(v1));
    const bundle = catalog.bundle(first.codeHash!)!;
    expect(Buffer.from(bundle.code!)).toEqual(v1);
    expect(verifyCodeHash(first.codeHash!, bundle.signature!, keyPair.publicKey)).toBe(true);

    // A new version, registered while this catalog is in use (as `swarmgrid kind add` does).
    const v2 = Buffer.from(v1.toString().replace("version: '1.0.0'", "version: '1.1.0'"));
    const { replaced } = await registerKind({ store, dataDir: dir, keyPair, code: v2 });
    expect(replaced?.version).toBe('1.0.0');
    expect(catalog.get('collatz')!.kind.version).toBe('1.0.0'); // nothing reloads behind our back
    expect((await catalog.resolve('collatz'))!.kind.version).toBe('1.1.0');
    expect(catalog.bundle(first.codeHash!)).toBeDefined(); // running batches may still need it
    expect(await catalog.resolve('nope')).toBeUndefined();
    expect((await catalog.resolve('pi'))!.codeHash).toBeNull();
  });

  it('skips a stored kind whose code no longer matches its hash', async () => {
    const events: string[] = [];
    tamperStore(dir, `UPDATE kinds SET code = ? WHERE name = 'collatz'`, Buffer.from('export default {};'));
    const catalog = new KindCatalog({ store, dataDir: dir, log: (e) => events.push(e) });
    await catalog.load();
    expect(catalog.get('collatz')).toBeUndefined();
    expect(events).toEqual(['kind-load-failed']);
  });

  it('remembers declines per worker, forgets untrusted ones once the worker trusts, and all on new code', async () => {
    // Only custom kinds registered here are remembered: a decline of a built-in or unknown kind
    // lasts for its session.
    recordDecline(store, 'w1', 'pi', 'GRID_ERR_UNTRUSTED_CODE: …');
    recordDecline(store, 'w1', 'nonesuch', 'GRID_ERR_UNTRUSTED_CODE: …');
    store.flush();
    expect(declinedKinds(store, 'w1', false)).toEqual([]);
    for (const name of ['collatz', 'other']) {
      tamperStore(dir, `INSERT OR IGNORE INTO kinds (name, version, code_hash, code, signature, added_at) VALUES (?, '1.0.0', x'00', x'00', x'00', 0)`, name);
    }
    recordDecline(store, 'w1', 'collatz', 'GRID_ERR_UNTRUSTED_CODE: custom job kind collatz@1.0.0 …');
    recordDecline(store, 'w1', 'other', 'GRID_ERR_CODE_HASH_MISMATCH: …');
    store.flush();
    expect(declinedKinds(store, 'w1', false).sort()).toEqual(['collatz', 'other']);
    expect(declinedKinds(store, 'w2', false)).toEqual([]);
    expect(declinedKinds(store, 'w1', true)).toEqual(['other']);
    recordDecline(store, 'w1', 'collatz', 'GRID_ERR_UNTRUSTED_CODE: …');
    store.flush();
    writeFileSync(join(dir, 'c.mjs'), readFileSync(COLLATZ));
    await registerKind({ store, dataDir: dir, keyPair, code: readFileSync(join(dir, 'c.mjs')) });
    expect(declinedKinds(store, 'w1', false)).toEqual(['other']);
  });
});
