/**
 * Leases run on the monotonic clock, which starts over with each process; the store keeps their
 * wall-clock deadlines. A restart converts each into the time it leaves, capped at the lease's
 * whole length (deadline - issued_at): a wall clock stepped back across the restart cannot stretch
 * a lease, and one already past its deadline expires at once (issue 12, case 12).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { monotonicNow } from '../../coordinator/leases.js';
import { type CoordinatorParts, coordinatorParts } from '../helpers/coordinator-parts.js';

let dir = '';
let current: CoordinatorParts | undefined;
afterEach(() => {
  current?.close();
  current = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** Two tasks of an echo batch out at a worker that never answers, committed; then the stored times set by `times`. */
async function restartWithLeases(times: (now: number) => { issued: number; deadline: number }): Promise<CoordinatorParts> {
  dir = mkdtempSync(join(tmpdir(), 'swarmgrid-lease-restart-'));
  const parts = (current = coordinatorParts({ dir, scheduler: { sweepMs: 3_600_000 } }));
  const id = await parts.batches.create({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }], policy: { replication: 1, quorum: 1, lease: 60 } });
  const worker = { key: 'w', address: '10.0.0.1', runtime: 'node' as const, threads: 1, credit: 2, canRun: () => true, sendTasks: () => {}, sendCancel: () => {} };
  parts.sched.attach(worker);
  parts.sched.dispatch(worker);
  parts.store.flush();
  const { issued, deadline } = times(Date.now());
  parts.store.stmt(`UPDATE tasks SET issued_at = ?, deadline = ? WHERE wu_id IN (SELECT id FROM work_units WHERE batch_id = ?)`).run(issued, deadline, id);
  parts.close();
  const restarted = (current = coordinatorParts({ dir, scheduler: { sweepMs: 3_600_000 } }));
  restarted.batches.recover();
  expect(restarted.sched.leases.size).toBe(2);
  return restarted;
}

it('a lease issued while the wall clock ran an hour ahead lasts no longer than its own length after a restart', async () => {
  const { sched } = await restartWithLeases((now) => ({ issued: now + 3_600_000, deadline: now + 3_660_000 }));
  sched.leases.sweep(monotonicNow() + 50_000);
  expect(sched.leases.size).toBe(2);
  sched.leases.sweep(monotonicNow() + 61_000);
  expect(sched.leases.size).toBe(0);
});

it('a lease keeps what its stored deadline leaves, and one past its deadline expires at the first sweep', async () => {
  let { sched } = await restartWithLeases((now) => ({ issued: now - 30_000, deadline: now + 30_000 }));
  sched.leases.sweep(monotonicNow() + 25_000);
  expect(sched.leases.size).toBe(2);
  sched.leases.sweep(monotonicNow() + 31_000);
  expect(sched.leases.size).toBe(0);
  current?.close();
  rmSync(dir, { recursive: true, force: true });
  ({ sched } = await restartWithLeases((now) => ({ issued: now - 61_000, deadline: now - 1000 })));
  sched.leases.sweep(monotonicNow());
  expect(sched.leases.size).toBe(0);
});
