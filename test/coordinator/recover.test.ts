/**
 * After a restart, a running batch whose job kind is not available (a custom kind whose code is
 * gone or fails its hash check) is not scheduled, and its status says why; once the kind is back
 * it resumes and the note goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BatchManager, STALLED } from '../../coordinator/batches.js';
import { KindCatalog } from '../../coordinator/kind-catalog.js';
import { Scheduler } from '../../coordinator/scheduler.js';
import { Store } from '../../coordinator/store.js';

const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-recover-'));
const open: { store: Store; sched: Scheduler }[] = [];
afterEach(() => {
  for (const { store, sched } of open.splice(0)) {
    sched.close();
    store.close();
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function start() {
  const store = new Store({ dataDir: dir });
  const sched = new Scheduler(store);
  open.push({ store, sched });
  return { store, sched, batches: new BatchManager(store, sched, new KindCatalog()) };
}

it('marks a running batch whose kind is missing as stalled, and clears it once the kind is back', async () => {
  let { store, sched, batches } = start();
  const id = await batches.create({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }], policy: { replication: 1, quorum: 1 } });
  // As if the kind had been a custom one whose code is gone at the next start.
  store.stmt(`UPDATE batches SET kind = 'gone' WHERE id = ?`).run(id);
  sched.close();
  store.close();
  open.splice(0);

  ({ store, sched, batches } = start());
  batches.recover();
  expect(sched.batches.has(id)).toBe(false);
  expect(store.getBatch(id)).toMatchObject({ state: 'running', error: expect.stringMatching(new RegExp(`^${STALLED}job kind gone is not available`)) });
  store.stmt(`UPDATE batches SET kind = 'echo' WHERE id = ?`).run(id);
  sched.close();
  store.close();
  open.splice(0);

  ({ store, sched, batches } = start());
  batches.recover();
  expect(sched.batches.has(id)).toBe(true);
  expect(store.getBatch(id)!.error).toBeNull();
});
