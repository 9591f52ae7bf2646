/**
 * Batches at scale: a 100,000-unit NDJSON upload streams into the store a chunk at a time, and
 * the scheduler dispatches (and a worker computes) while the POST is still going, with the
 * coordinator's memory bounded. The 1,000,000-unit figures come from test/bench/ingest.mjs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { clientOf, memoryOf, withDb } from './helpers.js';

const UNITS = 100_000;
const grid = new TestGrid();
let coord: CoordinatorProcess;

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  const worker = await grid.worker();
  await worker.waitFor('coordinator-joined');
});
afterAll(() => grid.close());

/** The batch being uploaded (state 'loading'), as the store sees it. */
function loading(): { id: string; stored: number; dispatched: number; validated: number } | undefined {
  return withDb(coord, (db) => {
    const batch = db.prepare(`SELECT id FROM batches WHERE state = 'loading'`).get() as { id: string } | undefined;
    if (!batch) return undefined;
    const count = (sql: string) => (db.prepare(sql).get(batch.id) as { n: number }).n;
    return {
      id: batch.id,
      stored: count('SELECT count(*) AS n FROM work_units WHERE batch_id = ?'),
      dispatched: count('SELECT count(*) AS n FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ?'),
      validated: count(`SELECT count(*) AS n FROM work_units WHERE batch_id = ? AND state = 'validated'`),
    };
  });
}

describe('a 100,000-unit NDJSON batch', () => {
  it('is dispatched and computed while the upload is still streaming, with bounded coordinator memory', async () => {
    const client = clientOf(coord);
    const pid = coord.proc.pid!;
    const before = memoryOf(pid);
    let midway: ReturnType<typeof loading>;
    let peakRss = before.rssMb;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, memoryOf(pid).rssMb); }, 50);
    async function* inputs() {
      for (let i = 0; i < UNITS; i++) {
        if (i === UNITS / 2) {
          // Halfway, the upload holds still until the coordinator has stored what it got, issued
          // tasks of it and had results back. Were ingest and dispatch one after the other, this
          // would never happen and the test would time out here.
          midway = await eventually(() => {
            const l = loading();
            return l && l.stored >= 40_000 && l.validated > 0 ? l : undefined;
          }, 30_000, 50);
        }
        yield { value: i };
      }
    }
    const started = Date.now();
    const submitted = await client.submitNdjson({ kind: 'echo', policy: { replication: 1, quorum: 1 } }, inputs());
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const after = memoryOf(pid);

    expect(submitted).toEqual({ id: midway!.id, total: UNITS, state: 'running' });
    expect(midway!.dispatched).toBeGreaterThan(0);
    const peak = Math.max(after.peakMb, peakRss);
    console.log(`100k NDJSON units in ${seconds.toFixed(1)} s; at the halfway pause ${midway!.stored} stored, ${midway!.dispatched} dispatched, ${midway!.validated} validated; coordinator RSS ${before.rssMb.toFixed(0)} MB before, ${peak.toFixed(0)} MB peak`);
    expect(peak).toBeLessThan(300);

    const status = await client.status(submitted.id);
    expect(status.total).toBe(UNITS);
    expect(status.counts.validated).toBeGreaterThanOrEqual(midway!.validated);
    withDb(coord, (db) => {
      const units = db.prepare('SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM work_units WHERE batch_id = ?').get(submitted.id);
      expect(units).toEqual({ n: UNITS, lo: 0, hi: UNITS - 1 });
    });
    // The rest is not this test's business: stop the worker spending the machine on it.
    await client.cancel(submitted.id);
  });
});
