/**
 * A lone volunteer on a replication-2 batch (issue 12, case 15): it cannot form a quorum alone,
 * but it can compute the first copy of many units while it waits for an independent volunteer.
 * It used to stop once the front of the ready list held only units it already had a copy of.
 * Real coordinator (default independence: one vote per network), real worker processes, each on a
 * /24 of its own (127.10.0.1, 127.11.0.1), real local DHT.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/grid.js';
import { readStore } from '../helpers/sqlite.js';
import { arenaPerTest } from '../security/arena.js';

const newArena = arenaPerTest();

describe('a lone worker on a replication-2 batch', () => {
  it('computes first copies of many units, never two of one unit, and the batch completes once a second network arrives', async () => {
    const arena = await newArena();
    const store = arena.coordinator.store;
    const [lone] = await arena.honestWorkers(1);
    const loneKey = (await lone!.waitFor('worker-started')).key as string;
    const units = 1500;
    const { id } = await arena.client.submit({ kind: 'pi', params: { workUnits: units, samplesPerUnit: 1000, seed: 4 } });
    const firstCopies = () => readStore(arena.dataDir, (db) => db.prepare(`SELECT count(*) AS n FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE w.batch_id = ? AND t.worker = ? AND t.state = 'returned'`).get(id, loneKey) as { n: number }).n;
    // Far more than one scan window (256) of the ready list.
    await eventually(() => firstCopies() >= 1000, 90_000, 100);
    const alone = firstCopies();
    const status = await arena.client.status(id);
    console.log(`lone worker: ${alone} first copies computed of ${units} units; validated ${status.counts.validated}`);
    expect(status.counts.validated).toBe(0);
    expect(status.state).toBe('running');

    await arena.honestWorkers(1);
    const final = await arena.finished(id);
    expect(final.state).toBe('completed');
    expect(arena.wrongAccepted(id)).toEqual({ wrong: 0, validated: units, failed: 0 });
    // One network never holds two tasks of one unit, and every unit was agreed by both networks.
    const twice = readStore(arena.dataDir, (db) => db.prepare(`SELECT count(*) AS n FROM (SELECT t.wu_id FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE w.batch_id = ? GROUP BY t.wu_id, t.address HAVING count(*) > 1)`).get(id) as { n: number });
    expect(twice.n).toBe(0);
    const lines = [];
    for await (const line of arena.client.results(id)) lines.push(line);
    expect(lines.every((l) => l.state === 'validated' && l.agreed === 2)).toBe(true);
  }, 240_000);
});
