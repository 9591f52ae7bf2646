/**
 * A unit that keeps losing its workers fails fast, with a reason (issue 12, Deliver: "a unit
 * that keeps killing workers fails fast with a reason"). Its task hangs every worker it reaches
 * past the lease (a policy timeout longer than the lease: the worker's own limit does not stop
 * it first), as a task that crashes or wedges its worker would: the coordinator used to re-issue
 * it network after network (with three workers it then sat `pending` for good); now, lost in
 * three networks, it fails with `workers_lost` and the batch ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { addKind, fixture, query, runBatch, tasks } from './helpers.js';

describe('a unit that keeps losing its workers', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
    addKind(coord.dataDir, fixture('spin-kind.mjs'));
    for (let i = 0; i < 3; i++) await grid.worker({ threads: 1, args: ['--trust', coord.key] });
    await eventually(() => coord.events.filter((e) => e.event === 'worker-joined').length >= 3 || undefined);
  });
  afterAll(() => grid.close());

  it('fails with workers_lost after its tasks were lost in three networks', async () => {
    const started = Date.now();
    const status = await runBatch(coord, {
      kind: 'spin',
      params: { units: 4, spinSeqs: '0' },
      policy: { replication: 1, quorum: 1, maxErrors: 3, lease: 3, timeout: 600 },
    }, 90_000);
    expect(status.counts).toMatchObject({ validated: 3, failed: 1 });
    const [unit] = query<{ state: string; fail_reason: string }>(coord, 'SELECT state, fail_reason FROM work_units WHERE batch_id = ? AND seq = 0', status.id);
    expect(unit).toEqual({ state: 'failed', fail_reason: 'workers_lost' });
    const lost = tasks(coord, status.id).filter((t) => t.seq === 0);
    expect(lost.map((t) => t.state)).toEqual(['expired', 'expired', 'expired']);
    expect(new Set(lost.map((t) => t.worker)).size).toBe(3);
    console.log(`unit lost in 3 networks (lease 3 s) failed ${Date.now() - started} ms after submission`);
  }, 120_000);
});
