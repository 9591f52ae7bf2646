/**
 * Durability: the coordinator is killed with SIGKILL mid-batch and restarted on the same --data.
 * Every result committed (so acknowledged) before the kill is still there, unchanged; the leases
 * out at the workers are recovered, not expired; the workers reconnect by themselves; the batch
 * completes with every work unit decided exactly once. Also: one coordinator per data directory,
 * and a submission cut off by a crash leaves nothing behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, type GridProcess, TestGrid } from '../helpers/grid.js';
import { clientOf, rowCounts, withDb } from './helpers.js';

let grid: TestGrid;
afterEach(async () => {
  await grid?.close();
});

interface UnitRow { seq: number; state: string; canonical_task: number | null; output: string | null }

function units(coord: CoordinatorProcess, batchId: string): UnitRow[] {
  return withDb(coord, (db) => db.prepare(`SELECT w.seq, w.state, w.canonical_task, hex(t.output) AS output
    FROM work_units w LEFT JOIN tasks t ON t.id = w.canonical_task WHERE w.batch_id = ? ORDER BY w.seq`).all(batchId) as UnitRow[]);
}

function leased(coord: CoordinatorProcess, batchId: string): number[] {
  return withDb(coord, (db) => (db.prepare(`SELECT t.id FROM tasks t JOIN work_units w ON w.id = t.wu_id
    WHERE w.batch_id = ? AND t.state = 'leased'`).all(batchId) as { id: number }[]).map((r) => r.id));
}

/** Resolves with the worker's next `coordinator-joined` event after `since` (ms epoch). */
function rejoined(worker: GridProcess, key: string, since: number, timeoutMs: number) {
  return worker.waitFor('coordinator-joined', (e) => e.coordinator === key && Date.parse(e.time as string) >= since, timeoutMs);
}

describe('kill -9 of the coordinator mid-batch', () => {
  it('keeps every acknowledged result, recovers the leases, gets its workers back and completes the batch exactly once', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const workers = await Promise.all([grid.worker(), grid.worker()]);
    await Promise.all(workers.map((w) => w.waitFor('coordinator-joined')));
    const N = 60;
    // ~0.25 s per unit on 2 worker threads: about 8 s of work, killed about a third of the way in.
    const { id } = await clientOf(coord).submit({ kind: 'pi', params: { workUnits: N, samplesPerUnit: 10_000_000, seed: 11 }, policy: { replication: 1, quorum: 1 } });
    await eventually(() => units(coord, id).filter((u) => u.state === 'validated').length >= 15, 60_000, 20);

    // What is committed right before the kill: results (each acknowledged only after its commit)
    // and the leases out at the workers.
    const committed = units(coord, id).filter((u) => u.state === 'validated');
    const outstanding = leased(coord, id);
    await coord.stop('SIGKILL');
    const killedAt = Date.now();
    expect(committed.length).toBeGreaterThanOrEqual(15);
    expect(committed.length).toBeLessThan(N);
    expect(outstanding.length).toBeGreaterThan(0);

    const restarted = await grid.coordinator({ dataDir: coord.dataDir });
    const upAt = Date.now();
    expect(restarted.key).toBe(coord.key); // same identity: the workers redial it by its key
    const joins = await Promise.all(workers.map((w) => rejoined(w, coord.key, upAt - 50, 60_000)));
    const reconnectMs = joins.map((e) => Date.parse(e.time as string) - upAt);
    console.log(`coordinator back ${upAt - killedAt} ms after the kill; workers rejoined ${reconnectMs.join(' and ')} ms after that, resending ${joins.map((e) => e.resent).join(' and ')} result(s)`);

    const final = await clientOf(restarted).wait(id, undefined, 200);
    expect(final).toMatchObject({ state: 'completed', total: N, counts: { validated: N, failed: 0 } });

    // Every acknowledged result is still there, unchanged.
    const after = units(restarted, id);
    for (const u of committed) expect(after[u.seq]).toEqual(u);
    // Exactly once: seqs 0..N-1, each with one canonical result and one valid task.
    expect(after.map((u) => u.seq)).toEqual([...Array(N).keys()]);
    expect(after.every((u) => u.state === 'validated' && u.canonical_task !== null && u.output !== null)).toBe(true);
    withDb(restarted, (db) => {
      const perUnit = db.prepare(`SELECT w.seq, count(*) AS n FROM tasks t JOIN work_units w ON w.id = t.wu_id
        WHERE w.batch_id = ? AND t.state = 'valid' GROUP BY w.seq`).all(id) as { seq: number; n: number }[];
      expect(perUnit).toHaveLength(N);
      expect(perUnit.every((r) => r.n === 1)).toBe(true);
      // The leases out at the kill were honoured after the restart (results resent or computed
      // after the reconnect), not left to expire and re-issued.
      const states = db.prepare(`SELECT state, count(*) AS n FROM tasks WHERE id IN (${outstanding.join(',')}) GROUP BY state`).all();
      expect(states).toEqual([{ state: 'valid', n: outstanding.length }]);
    });
    const artifact = JSON.parse(new TextDecoder().decode((await clientOf(restarted).artifact(id)).bytes)) as { samples: number; workUnits: number };
    expect(artifact).toMatchObject({ samples: N * 10_000_000, workUnits: N });
  }, 150_000);
});

describe('the data directory', () => {
  it('belongs to one coordinator at a time: a second one on it refuses to start', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const second = grid.spawn(['coordinator', '--data', coord.dataDir, '--grid', grid.grid, '--bootstrap', grid.bootstrap, '--http-port', '0', '--json']);
    expect(await second.exited).toBe(1);
    expect(second.stderr.join('')).toMatch(/GRID_ERR_STORE_LOCKED: data directory .* is in use by another coordinator/);
    // The first one is unharmed.
    expect((await clientOf(coord).health()).status).toBe('ok');
  });

  it('a submission cut off by a crash is discarded on restart; nothing of it stays', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const client = clientOf(coord);
    async function* inputs() {
      for (let i = 0; i < 100_000; i++) {
        if (i === 30_000) {
          await eventually(() => rowCounts(coord).workUnits >= 25_000, 20_000);
          await coord.stop('SIGKILL');
        }
        yield { value: i };
      }
    }
    await expect(client.submitNdjson({ kind: 'echo' }, inputs())).rejects.toMatchObject({ code: 'GRID_ERR_UNREACHABLE' });
    expect(rowCounts(coord).workUnits).toBeGreaterThanOrEqual(25_000);
    const restarted = await grid.coordinator({ dataDir: coord.dataDir });
    expect(rowCounts(restarted)).toEqual({ batches: 0, workUnits: 0, tasks: 0 });
    expect(await clientOf(restarted).list()).toEqual([]);
    expect(restarted.events.some((e) => e.event === 'batch-discarded')).toBe(true);
  });
});
