/**
 * Scheduler rules, driven in-process: a real SQLite store in a temp dir, fake worker handles
 * that record what they are sent, and the real validator.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchManager } from '../../coordinator/batches.js';
import type { Scheduler } from '../../coordinator/scheduler.js';
import type { GridStore } from '../../coordinator/store/index.js';
import type { WorkerHandle } from '../../coordinator/worker-handle.js';
import { decodeInput, encodeOutput } from '../../jobs/codec.js';
import { pi } from '../../jobs/pi.js';
import type { swarmgrid } from '../../proto/codec.js';
import { type CoordinatorParts, coordinatorParts, settle as settleImmediates } from '../helpers/coordinator-parts.js';
import { readStore, tamperStore } from '../helpers/sqlite.js';

class FakeWorker implements WorkerHandle {
  credit = 0;
  /** Many threads: the scheduler's work buffer (2 per thread for a new batch) never binds here. */
  threads = 64;
  tasks: swarmgrid.ITask[] = [];
  cancelled: number[] = [];
  constructor(readonly key: string, readonly address = '10.0.0.1', readonly runtime: 'node' | 'browser' = 'node') {}
  canRun() { return true; }
  sendTasks(t: swarmgrid.ITask[]) { this.tasks.push(...t); }
  sendCancel(ids: number[]) { this.cancelled.push(...ids); }
}

const settle = () => settleImmediates();
let parts: CoordinatorParts;
let store: GridStore;
let sched: Scheduler;
let batches: BatchManager;

beforeEach(() => {
  let n = 0;
  // A seeded random source: spot checks are reproducible.
  const random = () => ((n = (Math.imul(n + 0x6d2b79f5, 1) >>> 0)), ((n * 2654435761) >>> 0) / 2 ** 32);
  parts = coordinatorParts({ scheduler: { sweepMs: 20, random } });
  ({ store, sched, batches } = parts);
});
afterEach(() => parts.close());

/** Runs the real π job for a task, optionally lying. */
function answer(task: swarmgrid.ITask, lie = 0) {
  const input = pi.validateInput(decodeInput(task.input!));
  const out = pi.run(input);
  return { taskId: Number(task.taskId), output: encodeOutput(pi, { ...out, inside: out.inside + lie }), cpuMs: 1 };
}

async function pull(w: FakeWorker, n: number): Promise<swarmgrid.ITask[]> {
  const before = w.tasks.length;
  w.credit += n;
  sched.dispatch(w);
  await settle();
  return w.tasks.slice(before);
}

describe('scheduler', () => {
  it('never gives one worker identity two tasks of the same work unit', async () => {
    const id = await batches.create({ kind: 'pi', params: { workUnits: 5, samplesPerUnit: 10 }, policy: { replication: 2, quorum: 2 } });
    const a = new FakeWorker('a');
    sched.attach(a);
    const got = await pull(a, 50);
    expect(got).toHaveLength(5);
    expect(new Set(got.map((t) => Number(t.seq))).size).toBe(5);
    const b = new FakeWorker('b');
    sched.attach(b);
    expect(await pull(b, 50)).toHaveLength(5);
    expect(store.getBatch(id)!.tasks_issued).toBe(10);
  });

  it('never gives two tasks of one work unit to one network (IPv4 /24, IPv6 /64), node and browser alike', async () => {
    const own = coordinatorParts({ scheduler: { sweepMs: 20, networks: { independence: 'network' } } });
    try {
      await own.batches.create({ kind: 'pi', params: { workUnits: 3, samplesPerUnit: 10 } });
      const take = async (w: FakeWorker) => {
        w.credit += 10;
        own.sched.dispatch(w);
        await settle();
        return w.tasks.length;
      };
      // One household's IPv6 /64: two browsers; one office /24: two node workers.
      const b1 = new FakeWorker('b1', 'fd00:1::10', 'browser');
      const b2 = new FakeWorker('b2', 'fd00:1::11', 'browser');
      const n1 = new FakeWorker('n1', '10.0.0.1');
      const n2 = new FakeWorker('n2', '10.0.0.200');
      const n3 = new FakeWorker('n3', '::ffff:10.0.0.7'); // IPv4-mapped: the same /24
      for (const w of [b1, b2, n1, n2, n3]) own.sched.attach(w);
      expect(await take(b1)).toBe(3);
      expect(await take(b2)).toBe(0);
      expect(await take(n1)).toBe(3);
      expect(await take(n2)).toBe(0);
      expect(await take(n3)).toBe(0);
      expect(own.sched.networkOf(b2)).toBe('fd00:1::/64');
      expect(own.sched.networkOf(n3)).toBe('10.0.0.0/24');
    } finally {
      own.close();
    }
  });

  it("caps what one worker holds of a batch by the batch's task time: big credit from tiny tasks takes no lump of long ones", async () => {
    await batches.create({ kind: 'pi', params: { workUnits: 12, samplesPerUnit: 100 }, policy: { replication: 1, quorum: 1 } });
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    a.threads = b.threads = 1;
    for (const w of [a, b]) sched.attach(w);
    // Unknown task time: two per thread, whatever the credit.
    const first = await pull(a, 100);
    expect(first).toHaveLength(2);
    // They took 1.5 s each: a 2 s buffer holds 2 per thread; a has room again once they are back.
    sched.results(a, first.map((t) => ({ ...answer(t), cpuMs: 1500 })));
    await settle();
    expect(a.tasks).toHaveLength(4);
    // b, with plenty of credit too, gets its own share rather than nothing.
    expect(await pull(b, 100)).toHaveLength(2);
    // Results of tasks that never ran (rejected at once, 0 ms) say nothing of the task time.
    const before = b.tasks.length;
    sched.results(b, b.tasks.map((t) => ({ taskId: Number(t.taskId), errorCode: 'invalid_input', cpuMs: 0 })));
    await settle();
    expect(b.tasks.length - before).toBe(2); // its buffer is still 2 (a halved estimate would open it wide)
    // Tiny tasks: the buffer no longer binds and the rest goes at once.
    sched.results(a, a.tasks.slice(2).map((t) => ({ ...answer(t), cpuMs: 0.01 })));
    sched.results(b, b.tasks.slice(before).map((t) => ({ ...answer(t), cpuMs: 0.01 })));
    await settle();
    await settle();
    // Every undecided unit has a task out.
    const waiting = readStore(parts.dir, (db) => db.prepare(`SELECT count(*) AS n FROM work_units w WHERE w.state = 'pending'
      AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.wu_id = w.id AND t.state = 'leased')`).get() as { n: number });
    expect(waiting.n).toBe(0);
  });

  it('sizes the work buffer per session: two tabs with one volunteer id each get their share', async () => {
    await batches.create({ kind: 'pi', params: { workUnits: 20, samplesPerUnit: 100 }, policy: { replication: 1, quorum: 1 } });
    const tabs = [new FakeWorker('one-id'), new FakeWorker('one-id')];
    for (const t of tabs) {
      t.threads = 2;
      sched.attach(t);
    }
    const got = [await pull(tabs[0]!, 100), await pull(tabs[1]!, 100)];
    expect(got.map((g) => g.length)).toEqual([4, 4]);
  });

  it('issues another task on disagreement, marks the loser invalid, and cancels nothing still useful', async () => {
    // Another batch first, cancelled: its unit takes the first id, so this one's is not 1.
    batches.cancel(await batches.create({ kind: 'pi', params: { workUnits: 1, samplesPerUnit: 100 } }));
    const id = await batches.create({ kind: 'pi', params: { workUnits: 1, samplesPerUnit: 100 } });
    const [a, b, c] = ['a', 'b', 'c'].map((k) => new FakeWorker(k));
    for (const w of [a, b, c]) sched.attach(w!);
    const [ta] = await pull(a!, 1);
    const [tb] = await pull(b!, 1);
    sched.results(a!, [answer(ta!)]);
    sched.results(b!, [answer(tb!, 1)]);
    await settle();
    const [tc] = await pull(c!, 1);
    expect(tc).toBeDefined();
    sched.results(c!, [answer(tc!)]);
    await settle();
    await settle();
    const row = store.getBatch(id)!;
    expect(row.validated).toBe(1);
    expect(ta!.batchId).toBe(id);
    const tasks = store.tasksOf(store.getTask(Number(ta!.taskId))!.wu_id);
    expect(tasks.map((t) => [t.worker, t.state])).toEqual([['a', 'valid'], ['b', 'invalid'], ['c', 'valid']]);
    expect(store.getWorker('b')!.invalid).toBe(1);
    expect(store.getWorker('a')!.valid).toBe(1);
  });

  it('fails a work unit with no_quorum after maxTasks disagreeing results', async () => {
    const id = await batches.create({ kind: 'pi', params: { workUnits: 1, samplesPerUnit: 100 }, policy: { replication: 2, quorum: 2, maxTasks: 3 } });
    const ws = ['a', 'b', 'c', 'd'].map((k) => new FakeWorker(k));
    for (const w of ws) sched.attach(w);
    let lie = 1;
    for (const w of ws) {
      const got = await pull(w, 1);
      for (const t of got) sched.results(w, [answer(t, lie++)]);
      await settle();
    }
    await settle();
    const row = store.getBatch(id)!;
    expect(row.failed).toBe(1);
    expect(row.tasks_issued).toBe(3);
    expect(row.state).toBe('failed');
  });

  it('re-issues at once what a worker hands back, and after the lease what it never returns', async () => {
    await batches.create({ kind: 'pi', params: { workUnits: 2, samplesPerUnit: 10 }, policy: { replication: 1, quorum: 1, lease: 0.1 } });
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    sched.attach(a);
    sched.attach(b);
    const held = await pull(a, 2);
    expect(held).toHaveLength(2);
    sched.abandon(a, [Number(held[0]!.taskId)]);
    expect(await pull(b, 1)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200)); // the other lease runs out
    expect(await pull(b, 1)).toHaveLength(1);
    expect(store.getWorker('a')!.timeouts).toBe(1);
  });

  it('a result sent twice (a replay, or a resend racing a flush) is one vote, not a quorum', async () => {
    const id = await batches.create({ kind: 'pi', params: { workUnits: 1, samplesPerUnit: 100 }, policy: { replication: 2, quorum: 2, lease: 0.1 } });
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    sched.attach(a);
    sched.attach(b);
    const [ta] = await pull(a, 1);
    await pull(b, 1);
    await new Promise((r) => setTimeout(r, 250)); // both leases expire: the late path
    const forged = answer(ta!, 12345);
    sched.results(a, [forged, forged]);
    await settle();
    sched.results(a, [forged]);
    await settle();
    const row = store.getBatch(id)!;
    expect(row.validated).toBe(0);
    expect(row.state).toBe('running');
  });

  it('a unit decided in this tick is not re-loaded and decided again by a late result in the same tick', async () => {
    const id = await batches.create({ kind: 'pi', params: { workUnits: 2, samplesPerUnit: 100 }, policy: { replication: 2, quorum: 2, lease: 0.2 } });
    const [a, b, c] = ['a', 'b', 'c'].map((k) => new FakeWorker(k));
    for (const w of [a, b, c]) sched.attach(w!);
    const [ta] = await pull(a!, 1);
    const [tb] = await pull(b!, 1);
    expect(Number(ta!.seq)).toBe(Number(tb!.seq));
    sched.results(a!, [answer(ta!)]);
    await settle();
    await new Promise((r) => setTimeout(r, 300)); // b's lease expires; the unit goes to c
    const [tc] = await pull(c!, 1);
    expect(Number(tc!.seq)).toBe(Number(ta!.seq));
    sched.results(c!, [answer(tc!)]);
    sched.results(b!, [answer(tb!)]); // late, same tick
    await settle();
    await settle();
    const row = store.getBatch(id)!;
    expect(row.validated).toBe(1);
    expect(row.state).toBe('running'); // the other unit is still to do
  });

  it('an adaptive single copy handed back goes out again under the full quorum', async () => {
    let draws = [0.9, 0.0]; // first draw: single copy; second: a spot check
    const own = coordinatorParts({ scheduler: { sweepMs: 20, random: () => draws.shift() ?? 0.5 } });
    const { store: store2, sched: sched2, batches: mgr } = own;
    try {
      const id = await mgr.create({ kind: 'pi', params: { workUnits: 1, samplesPerUnit: 100 }, policy: { adaptive: true, trustAfter: 1, spotCheck: 0.5 } });
      const w = new FakeWorker('w');
      const x = new FakeWorker('x');
      store2.touchWorker('w', 'node', '10.0.0.1');
      store2.touchWorker('x', 'node', '10.0.0.2');
      tamperStore(own.dir, 'UPDATE workers SET consecutive_valid = 5');
      for (const k of [w, x]) sched2.workers.add(k);
      w.credit = 1;
      sched2.dispatch(w);
      await settle();
      sched2.abandon(w, [Number(w.tasks[0]!.taskId)]);
      x.credit = 1;
      sched2.dispatch(x);
      await settle();
      const tx = x.tasks[0]!;
      sched2.results(x, [answer(tx, 777)]); // a lie on a spot-checked task
      await settle();
      await settle();
      expect(store2.getBatch(id)!.validated).toBe(0);
      expect(store2.getTask(Number(tx.taskId))!.state).toBe('returned');
    } finally {
      draws = [];
      own.close();
    }
  });
});
