/**
 * After a restart, a running batch whose job kind is not available (a custom kind whose code is
 * gone or fails its hash check) is not scheduled, and its status says why; once the kind is back
 * it resumes and the note goes.
 */
import { afterEach, expect, it } from 'vitest';
import { STALLED } from '../../coordinator/batches.js';
import { batchView } from '../../coordinator/http/views.js';
import { batchWithLeases, restartingParts } from '../helpers/coordinator-parts.js';
import { readStore, tamperStore } from '../helpers/sqlite.js';

const { start, restart, cleanup } = restartingParts();
afterEach(cleanup);

it('marks a running batch whose kind is missing as stalled, and clears it once the kind is back', async () => {
  let { store, sched, batches, dir } = start();
  const id = await batches.create({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }], policy: { replication: 1, quorum: 1 } });
  // As if the kind had been a custom one whose code is gone at the next start.
  tamperStore(dir, `UPDATE batches SET kind = 'gone' WHERE id = ?`, id);
  ({ store, sched, batches } = restart());
  batches.recover();
  expect(sched.batches.has(id)).toBe(false);
  expect(store.getBatch(id)).toMatchObject({ state: 'running', error: expect.stringMatching(new RegExp(`^${STALLED}job kind gone is not available`)) });
  // Stalled is the ledger's state; the API shows it running, with its note and no ETA.
  expect(batches.ledger(id)!.state).toBe('stalled');
  expect(batchView(store.getBatch(id)!, batches.ledger(id))).toMatchObject({ state: 'running', ratePerSecond: 0, etaSeconds: null });
  tamperStore(dir, `UPDATE batches SET kind = 'echo' WHERE id = ?`, id);
  ({ store, sched, batches } = restart());
  batches.recover();
  expect(sched.batches.has(id)).toBe(true);
  expect(batches.ledger(id)!.state).toBe('running');
  expect(store.getBatch(id)!.error).toBeNull();
});

it('cancelling a stalled batch clears its note and withdraws its tasks', async () => {
  const parts = start();
  const id = await batchWithLeases(parts);
  let { store, sched, batches } = parts;
  tamperStore(parts.dir, `UPDATE batches SET kind = 'gone' WHERE id = ?`, id);
  ({ store, sched, batches } = restart());
  batches.recover();
  expect(sched.leases.size).toBe(2); // still valid: their worker may come back
  batches.cancel(id);
  expect(store.getBatch(id)).toMatchObject({ state: 'cancelled', error: null });
  expect(sched.leases.size).toBe(0);
  const states = readStore(parts.dir, (db) => db.prepare(`SELECT t.state FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ?`).all(id));
  expect(states).toEqual([{ state: 'cancelled' }, { state: 'cancelled' }]);
});

it('forgets the leases of a submission interrupted while streaming in (it is deleted at restart)', async () => {
  const parts = start();
  const id = await batchWithLeases(parts);
  let { store, sched, batches } = parts;
  tamperStore(parts.dir, `UPDATE batches SET state = 'loading' WHERE id = ?`, id); // as if killed mid-upload
  ({ store, sched, batches } = restart());
  expect(sched.leases.size).toBe(2);
  batches.recover();
  expect(store.getBatch(id)).toBeUndefined();
  expect(sched.leases.size).toBe(0);
});
