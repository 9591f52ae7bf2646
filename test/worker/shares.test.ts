/**
 * Resource shares across coordinators: one worker serving two coordinators of its grid with
 * --share A=3 --share B=1 runs their tasks in about that ratio while both have work; with
 * --coordinator it serves only the one named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { client, query } from './helpers.js';

const done = (c: CoordinatorProcess, worker: string) =>
  query<{ n: number }>(c, `SELECT count(*) AS n FROM tasks WHERE worker = ? AND state = 'valid'`, worker)[0]!.n;

describe('several coordinators', () => {
  const grid = new TestGrid();
  let a: CoordinatorProcess;
  let b: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    [a, b] = await Promise.all([grid.coordinator(), grid.coordinator()]);
  });
  afterAll(() => grid.close());

  it('splits a worker between two coordinators by --share 3:1', async () => {
    const worker = await grid.worker({ threads: 1, args: ['--share', `${a.key}=3`, '--share', `${b.key}=1`] });
    const key = (await worker.waitFor('worker-started')).key as string;
    await worker.waitFor('coordinator-joined', (e) => e.coordinator === a.key);
    await worker.waitFor('coordinator-joined', (e) => e.coordinator === b.key);
    // Same kind and unit size on both sides (~15 ms a unit), more work than the window needs.
    const spec = { kind: 'pi', params: { workUnits: 2000, samplesPerUnit: 2_000_000, seed: 1 }, policy: { replication: 1, quorum: 1 } };
    const [ja, jb] = await Promise.all([client(a).submit(spec), client(b).submit(spec)]);
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: both pipelines full
    const a0 = done(a, key);
    const b0 = done(b, key);
    await new Promise((r) => setTimeout(r, 5000));
    const da = done(a, key) - a0;
    const db = done(b, key) - b0;
    const ratio = da / db;
    console.log(`shares 3:1 -> tasks done in 5 s: A ${da}, B ${db}, ratio ${ratio.toFixed(2)}`);
    await Promise.all([client(a).cancel(ja.id), client(b).cancel(jb.id)]);
    await worker.stop();
    expect(da + db).toBeGreaterThan(20);
    expect(ratio).toBeGreaterThan(2.2);
    expect(ratio).toBeLessThan(4);
  });

  it('serves only the coordinators named with --coordinator', async () => {
    const worker = await grid.worker({ threads: 1, args: ['--coordinator', b.key] });
    await worker.waitFor('coordinator-joined', (e) => e.coordinator === b.key);
    // A is on the same topic and found by the same lookup: met, turned away, never served.
    await worker.waitFor('coordinator-skipped', (e) => e.coordinator === a.key);
    expect(worker.events.filter((e) => e.event === 'coordinator-joined').map((e) => e.coordinator)).toEqual([b.key]);
    await worker.stop();
  });
});
