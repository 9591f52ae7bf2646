/**
 * Tasks a worker hands back unrun (it paused because its owner got busy, or it said Goodbye) are
 * not votes and not failures: the work unit may go to the same worker again later (once other
 * networks have had their chance: the hold-off, here 400 ms), and handing back never uses up the
 * unit's maxTasks. Otherwise a lone --idle-only volunteer would strand
 * every unit it ever handed back, and one that pauses often would make units fail unrun.
 * Driven in-process: the real scheduler and store, a fake worker handle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchManager } from '../../coordinator/batches.js';
import { KindCatalog } from '../../coordinator/kind-catalog.js';
import { Scheduler } from '../../coordinator/scheduler.js';
import { type GridStore, SqliteStore } from '../../coordinator/store/index.js';
import type { WorkerHandle } from '../../coordinator/worker-handle.js';
import { decodeInput, encodeOutput } from '../../jobs/codec.js';
import { pi } from '../../jobs/pi.js';
import type { swarmgrid } from '../../proto/codec.js';
import { settle as settleImmediates } from '../helpers/coordinator-parts.js';

class FakeWorker implements WorkerHandle {
  credit = 0;
  /** Many threads: the scheduler's work buffer (2 per thread for a new batch) never binds here. */
  threads = 64;
  tasks: swarmgrid.ITask[] = [];
  constructor(readonly key: string, readonly address = '10.0.0.1', readonly runtime: 'node' | 'browser' = 'node') {}
  canRun() { return true; }
  sendTasks(t: swarmgrid.ITask[]) { this.tasks.push(...t); }
  sendCancel() {}
}

const settle = () => settleImmediates();
// Long enough that two settles on a loaded machine (load 16 took > 50 ms) stay inside it.
const HOLD_OFF_MS = 400;
const holdOff = () => new Promise((r) => setTimeout(r, HOLD_OFF_MS + 20));
let dir: string;
let store: GridStore;
let sched: Scheduler;
let batches: BatchManager;

function open() {
  store = new SqliteStore({ dataDir: dir });
  // A local grid (fake workers share an address), with a short hand-back hold-off.
  sched = new Scheduler(store, { sweepMs: 20, probationMs: HOLD_OFF_MS, networks: { independence: 'identity' } });
  batches = new BatchManager(store, sched, new KindCatalog());
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swarmgrid-handback-'));
  open();
});
afterEach(() => {
  sched.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function pull(w: FakeWorker, n: number): Promise<swarmgrid.ITask[]> {
  const before = w.tasks.length;
  w.credit = n;
  sched.dispatch(w);
  await settle();
  return w.tasks.slice(before);
}

function answer(task: swarmgrid.ITask) {
  return { taskId: Number(task.taskId), output: encodeOutput(pi, pi.run(pi.validateInput(decodeInput(task.input!)))), cpuMs: 1 };
}

describe('tasks handed back unrun', () => {
  it('go back to the same lone worker, however often it pauses, and the batch completes', async () => {
    const id = await batches.create({ kind: 'pi', params: { workUnits: 2, samplesPerUnit: 10 }, policy: { replication: 1, quorum: 1 } });
    const w = new FakeWorker('lone');
    sched.attach(w);
    // More hand-backs than maxTasks (replication + 3 = 4) allows issues.
    for (let i = 0; i < 6; i++) {
      const got = await pull(w, 2);
      expect(got.map((t) => Number(t.seq)).sort()).toEqual([0, 1]);
      w.credit = 0;
      sched.abandon(w, got.map((t) => Number(t.taskId)));
      await settle();
      // Not at once: another network would get them first. Then they come back here.
      expect(await pull(w, 2)).toEqual([]);
      w.credit = 0;
      await holdOff();
    }
    sched.results(w, (await pull(w, 2)).map(answer));
    await settle();
    await new Promise((r) => setTimeout(r, 50));
    expect(store.getBatch(id)).toMatchObject({ state: 'completed', validated: 2, failed: 0 });
  });

  it('are re-issued before units never started', async () => {
    await batches.create({ kind: 'pi', params: { workUnits: 5, samplesPerUnit: 10 }, policy: { replication: 1, quorum: 1 } });
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    sched.attach(a);
    sched.attach(b);
    const [, second] = await pull(a, 2);
    sched.abandon(a, [Number(second!.taskId)]);
    await settle();
    expect((await pull(b, 1)).map((t) => Number(t.seq))).toEqual([Number(second!.seq)]);
  });

  it('do not count after a restart either (the unit is rebuilt from the store)', async () => {
    await batches.create({ kind: 'pi', params: { workUnits: 1, samplesPerUnit: 10 }, policy: { replication: 1, quorum: 1 } });
    const w = new FakeWorker('lone');
    sched.attach(w);
    for (let i = 0; i < 5; i++) {
      const got = await pull(w, 1);
      w.credit = 0;
      sched.abandon(w, got.map((t) => Number(t.taskId)));
      await holdOff();
    }
    store.flush();
    sched.close();
    store.close();
    open();
    batches.recover();
    const again = new FakeWorker('lone');
    sched.attach(again);
    expect(await pull(again, 1)).toHaveLength(1);
  });
});
