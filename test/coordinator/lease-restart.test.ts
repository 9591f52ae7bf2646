/**
 * Leases run on the monotonic clock, which starts over with each process; the store keeps their
 * wall-clock deadlines. A restart converts each into the time it leaves, capped at the lease's
 * whole length (deadline - issued_at): a wall clock stepped back across the restart cannot stretch
 * a lease, and one already past its deadline expires at once (issue 12, case 12).
 */
import { afterEach, expect, it } from 'vitest';
import { monotonicNow } from '../../coordinator/leases.js';
import { type CoordinatorParts, batchWithLeases, restartingParts } from '../helpers/coordinator-parts.js';
import { tamperStore } from '../helpers/sqlite.js';

// No sweep of its own: the tests sweep at chosen times.
const { start, restart, cleanup } = restartingParts({ scheduler: { sweepMs: 3_600_000 } });
afterEach(cleanup);

/** Two tasks of an echo batch out at a worker that never answers, committed; then the stored times set by `times`; then a restart. */
async function restartWithLeases(times: (now: number) => { issued: number; deadline: number }): Promise<CoordinatorParts> {
  const parts = start();
  const id = await batchWithLeases(parts, { lease: 60 });
  const { issued, deadline } = times(Date.now());
  tamperStore(parts.dir, `UPDATE tasks SET issued_at = ?, deadline = ? WHERE wu_id IN (SELECT id FROM work_units WHERE batch_id = ?)`, issued, deadline, id);
  const restarted = restart();
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
  cleanup();
  ({ sched } = await restartWithLeases((now) => ({ issued: now - 61_000, deadline: now - 1000 })));
  sched.leases.sweep(monotonicNow());
  expect(sched.leases.size).toBe(0);
});
