import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import DHT from 'hyperdht';
import { afterEach, describe, expect, it } from 'vitest';
import type { swarmgrid } from '../../proto/codec.js';
import { CodeCache, type CodeSource } from '../../worker/code-cache.js';
import { codeHash, signCodeHash, verifyCodeHash } from '../../proto/code-signature.js';

const coordinator = DHT.keyPair();
const code = Buffer.from("export default { name: 'k', version: '1.0.0' };\n");
const hash = codeHash(code);

function source(bundle: Partial<swarmgrid.ICodeBundle>, calls: { n: number } = { n: 0 }): CodeSource {
  return {
    key: coordinator.publicKey.toString('hex'),
    requestCode: async (h) => {
      calls.n++;
      return { codeHash: h, kind: 'k', kindVersion: '1.0.0', code, signature: signCodeHash(h, coordinator), ...bundle };
    },
  };
}

describe('code signatures', () => {
  it('verify against the signing key only, and only for the signed hash', () => {
    const sig = signCodeHash(hash, coordinator);
    expect(verifyCodeHash(hash, sig, coordinator.publicKey)).toBe(true);
    expect(verifyCodeHash(codeHash(Buffer.from('other')), sig, coordinator.publicKey)).toBe(false);
    expect(verifyCodeHash(hash, sig, DHT.keyPair().publicKey)).toBe(false);
    expect(verifyCodeHash(hash, sig.subarray(1), coordinator.publicKey)).toBe(false);
  });

  it('refuse a secret key that does not belong to the public key', () => {
    expect(() => signCodeHash(hash, { publicKey: DHT.keyPair().publicKey, secretKey: coordinator.secretKey })).toThrow(/does not belong/);
  });
});

describe('CodeCache', () => {
  const dirs: string[] = [];
  const cache = () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-cache-'));
    dirs.push(dir);
    return new CodeCache({ dir });
  };
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  it('fetches, verifies and stores a bundle once, by hash', async () => {
    const c = cache();
    const calls = { n: 0 };
    const [p1, p2] = await Promise.all([c.obtain(source({}, calls), hash, 'k'), c.obtain(source({}, calls), hash, 'k')]);
    expect(p1).toBe(join(c.dir, `${hash.toString('hex')}.mjs`));
    expect(p2).toBe(p1);
    expect(calls.n).toBe(1);
  });

  it('refuses bytes that do not match the hash, and a wrong signature, storing nothing', async () => {
    const c = cache();
    await expect(c.obtain(source({ code: Buffer.concat([code, Buffer.from(' ')]) }), hash, 'k')).rejects.toMatchObject({ code: 'GRID_ERR_CODE_HASH_MISMATCH' });
    await expect(c.obtain(source({ signature: signCodeHash(hash, DHT.keyPair()) }), hash, 'k')).rejects.toMatchObject({ code: 'GRID_ERR_CODE_SIGNATURE' });
    expect(readdirSync(c.dir)).toEqual([]);
  });

  it('does not trust a cached file that no longer matches its name', async () => {
    const c = cache();
    writeFileSync(join(c.dir, `${hash.toString('hex')}.mjs`), 'export default 42;');
    const calls = { n: 0 };
    await c.obtain(source({}, calls), hash, 'k');
    expect(calls.n).toBe(1); // fetched again, and the file replaced
  });

  it('reports an unreachable coordinator as unavailable, and tries again next time', async () => {
    const c = cache();
    let fail = true;
    const flaky: CodeSource = { key: coordinator.publicKey.toString('hex'), requestCode: async (h) => {
      if (fail) throw new Error('coordinator not connected');
      return { codeHash: h, code, signature: signCodeHash(h, coordinator) };
    } };
    await expect(c.obtain(flaky, hash, 'k')).rejects.toMatchObject({ code: 'GRID_ERR_CODE_UNAVAILABLE' });
    fail = false;
    await expect(c.obtain(flaky, hash, 'k')).resolves.toMatch(/\.mjs$/);
  });
});
