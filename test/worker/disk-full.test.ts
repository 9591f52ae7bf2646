/**
 * A worker whose --data disk is full (issue 12, case 8), on a real tmpfs: starting on it gives a
 * coded one-line error and leaves no half-written identity; an empty identity file (what that
 * left before) is replaced, a damaged one is refused with a coded error; and a code cache that
 * cannot be written hands the tasks back — the kind is never declined — so the batch completes
 * once space is freed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeyPair } from '../../coordinator/identity.js';
import { CLI, type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { Tmpfs, tmpfsSkipReason } from '../helpers/tmpfs.js';
import { addKind, client, COLLATZ, query } from './helpers.js';

if (tmpfsSkipReason) console.log(`skipped: ${tmpfsSkipReason}`);

describe.skipIf(tmpfsSkipReason !== null)('worker --data on a full disk', () => {
  const grid = new TestGrid();
  const disks: Tmpfs[] = [];
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
  });
  afterAll(async () => {
    await grid.close();
    for (const d of disks) d.unmount();
  });

  /** `swarmgrid worker` run to its exit (it must exit by itself: the start fails). */
  function startFails(data: string) {
    const r = spawnSync(process.execPath, [CLI, 'worker', '--data', data, '--grid', grid.grid, '--bootstrap', grid.bootstrap, '--json'], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stderr: r.stderr.trim() };
  }

  it('a first start on a full disk exits with GRID_ERR_STORAGE_FULL on one line, leaves no identity file, and starts once space is freed', async () => {
    const disk = new Tmpfs('256k');
    disks.push(disk);
    const data = disk.sub('worker');
    disk.fill();
    const r = startFails(data);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^swarmgrid worker: GRID_ERR_STORAGE_FULL: no space left on the device of .*worker-identity\.json/);
    expect(r.stderr.split('\n')).toHaveLength(1); // no stack trace
    expect(readdirSync(data)).toEqual([]); // neither an empty identity nor a temp file

    disk.free();
    const w = await grid.worker({ args: ['--data', data] });
    const key = (await w.waitFor('worker-started')).key as string;
    const stored = JSON.parse(readFileSync(join(data, 'worker-identity.json'), 'utf8')) as { publicKey: string };
    expect(stored.publicKey).toBe(key);
    await w.stop();
  });

  it('an empty identity file (left by an older version on a full disk) is replaced; a damaged one is refused with a coded error', async () => {
    const data = grid.tempDir('swarmgrid-volunteer-');
    writeFileSync(join(data, 'worker-identity.json'), '');
    const w = await grid.worker({ args: ['--data', data] });
    const key = (await w.waitFor('worker-started')).key as string;
    await w.stop();
    expect(loadOrCreateKeyPair(data, 'worker-identity.json').publicKey.toString('hex')).toBe(key);

    writeFileSync(join(data, 'worker-identity.json'), '{"publicKey": "ab');
    const r = startFails(data);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^swarmgrid worker: GRID_ERR_IDENTITY_DAMAGED: identity file .*worker-identity\.json is damaged/);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(readFileSync(join(data, 'worker-identity.json'), 'utf8')).toBe('{"publicKey": "ab'); // kept for the owner to restore
  });

  it('a code cache on a full disk hands the tasks back instead of declining the kind, and the batch completes once space is freed', async () => {
    const disk = new Tmpfs('256k');
    disks.push(disk);
    const data = disk.sub('worker');
    loadOrCreateKeyPair(data, 'worker-identity.json'); // the identity is there; the cache is not
    disk.fill();
    addKind(coord.dataDir, COLLATZ);
    const w = await grid.worker({ args: ['--data', data, '--trust', coord.key] });
    const key = (await w.waitFor('worker-started')).key as string;
    await coord.waitFor('worker-joined', (e) => e.worker === key);
    const api = client(coord);
    const { id } = await api.submit({ kind: 'collatz', params: { from: 1, to: 2001, unitSize: 500 }, policy: { replication: 1, quorum: 1 } });
    const refused = await w.waitFor('code-refused', () => true, 30_000);
    expect(refused.reason).toMatch(/^GRID_ERR_STORAGE_FULL: /);
    await new Promise((r) => setTimeout(r, 1000));
    expect(w.events.some((e) => e.event === 'kind-declined')).toBe(false);
    expect(query(coord, 'SELECT * FROM declines WHERE worker = ?', key)).toEqual([]);
    const refusals = w.events.filter((e) => e.event === 'code-refused').length;

    disk.free();
    const done = await eventually(async () => {
      const s = await api.status(id);
      return s.state === 'completed' ? s : undefined;
    }, 60_000, 200);
    expect(done.counts.validated).toBe(4);
    expect(existsSync(join(data, 'code-cache'))).toBe(true);
    console.log(`code cache full: ${refusals} hand-backs in the first second, batch completed once space was freed`);
  });
});
