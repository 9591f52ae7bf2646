/**
 * Foundation end to end: real DHT on 127.0.0.1, a coordinator process, worker processes,
 * a π batch; asserted from the coordinator's SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { TestGrid } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';

let grid: TestGrid;
afterEach(async () => {
  await grid?.close();
});

function storedResults(dataDir: string, batchId: string) {
  const db = openStore(dataDir);
  try {
    const units = db.prepare(`SELECT seq, state, canonical_task FROM work_units WHERE batch_id = ? ORDER BY seq`).all(batchId) as { seq: number; state: string; canonical_task: number | null }[];
    const perWorker = db.prepare(`SELECT t.worker, count(*) AS n FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ? AND t.state = 'valid' GROUP BY t.worker`).all(batchId) as { worker: string; n: number }[];
    const dupes = db.prepare(`SELECT count(*) AS n FROM (SELECT t.wu_id, t.worker FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ? GROUP BY t.wu_id, t.worker HAVING count(*) > 1)`).get(batchId) as { n: number };
    return { units, perWorker, sameWorkerTwice: dupes.n };
  } finally {
    db.close();
  }
}

describe('a π batch end to end', () => {
  it('two worker processes complete a 200-work-unit batch, cross-checked, every unit stored once', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    await Promise.all([grid.worker(), grid.worker()]);
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 200, samplesPerUnit: 20_000, seed: 7 } });
    const final = await client.wait(id, undefined, 200);
    expect(final.state).toBe('completed');
    expect(final.counts).toMatchObject({ validated: 200, failed: 0 });

    const { units, perWorker, sameWorkerTwice } = storedResults(coord.dataDir, id);
    expect(units.map((u) => u.seq)).toEqual([...Array(200).keys()]);
    expect(units.every((u) => u.state === 'validated' && u.canonical_task !== null)).toBe(true);
    // Replication 2 / quorum 2 by default: both workers computed every unit, never one twice.
    expect(perWorker).toHaveLength(2);
    for (const w of perWorker) expect(w.n).toBe(200);
    expect(sameWorkerTwice).toBe(0);

    const artifact = JSON.parse(new TextDecoder().decode((await client.artifact(id)).bytes)) as { estimate: number; stderr: number; samples: number };
    expect(artifact.samples).toBe(200 * 20_000);
    expect(Math.abs(artifact.estimate - Math.PI)).toBeLessThan(4 * artifact.stderr);

    const lines = [];
    for await (const line of client.results(id)) lines.push(line);
    expect(lines.map((l) => l.seq)).toEqual([...Array(200).keys()]);
    expect(lines.every((l) => l.state === 'validated' && l.agreed === 2)).toBe(true);
  });

  it('a worker killed with SIGKILL mid-batch: its leases expire, its tasks are re-issued, nothing lost or duplicated', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const victim = await grid.worker();
    await Promise.all([grid.worker(), grid.worker()]);
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({
      kind: 'pi',
      params: { workUnits: 120, samplesPerUnit: 400_000, seed: 3 },
      policy: { replication: 2, quorum: 2, lease: 2 },
    });
    // Kill the victim once it is holding tasks.
    await victim.waitFor('coordinator-joined');
    const db = openStore(coord.dataDir);
    const victimKey = (await victim.waitFor('worker-started')).key as string;
    const held = () => (db.prepare(`SELECT count(*) AS n FROM tasks WHERE worker = ? AND state = 'leased'`).get(victimKey) as { n: number }).n;
    const deadline = Date.now() + 20_000;
    while (held() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(held()).toBeGreaterThan(0);
    await victim.stop('SIGKILL');

    const final = await client.wait(id, undefined, 200);
    expect(final.state).toBe('completed');
    const expired = (db.prepare(`SELECT count(*) AS n FROM tasks WHERE worker = ? AND state = 'expired'`).get(victimKey) as { n: number }).n;
    db.close();
    expect(expired).toBeGreaterThan(0);
    const { units, sameWorkerTwice } = storedResults(coord.dataDir, id);
    expect(units).toHaveLength(120);
    expect(new Set(units.map((u) => u.seq)).size).toBe(120);
    expect(units.every((u) => u.state === 'validated' && u.canonical_task !== null)).toBe(true);
    expect(sameWorkerTwice).toBe(0);
  });
});
