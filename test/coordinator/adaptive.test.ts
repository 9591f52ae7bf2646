/**
 * Adaptive replication, in-process with a real store: trusted workers get single copies, spot
 * checks catch a worker that turns bad, and its unchecked results are reopened.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchManager } from '../../coordinator/batches.js';
import type { Scheduler } from '../../coordinator/scheduler.js';
import type { GridStore } from '../../coordinator/store/index.js';
import type { WorkerHandle } from '../../coordinator/worker-handle.js';
import { decodeInput, decodeJson, encodeOutput } from '../../jobs/codec.js';
import { pi } from '../../jobs/pi.js';
import type { swarmgrid } from '../../proto/codec.js';
import { type CoordinatorParts, coordinatorParts } from '../helpers/coordinator-parts.js';

class FakeWorker implements WorkerHandle {
  credit = 0;
  /** Many threads: the scheduler's work buffer (2 per thread for a new batch) never binds here. */
  threads = 64;
  inbox: swarmgrid.ITask[] = [];
  lie = 0;
  /** Lie only on work units from this seq on (the last ones a batch issues). */
  lieFromSeq = 0;
  constructor(readonly key: string, readonly address = `10.0.0.${key.charCodeAt(0)}`, readonly runtime: 'node' | 'browser' = 'node') {}
  canRun() { return true; }
  sendTasks(t: swarmgrid.ITask[]) { this.inbox.push(...t); }
  sendCancel(ids: number[]) { this.inbox = this.inbox.filter((t) => !ids.includes(Number(t.taskId))); }
}

const settle = () => new Promise((r) => setImmediate(r));
let parts: CoordinatorParts;
let store: GridStore;
let sched: Scheduler;
let batches: BatchManager;

beforeEach(() => {
  let s = 42;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  parts = coordinatorParts({ scheduler: { sweepMs: 1000, random } });
  ({ store, sched, batches } = parts);
});
afterEach(() => parts.close());

/** Lets every worker pull and answer, round after round, until the batch is final. */
async function drive(id: string, workers: FakeWorker[]): Promise<void> {
  for (let round = 0; round < 10_000; round++) {
    const row = store.getBatch(id)!;
    if (row.state !== 'running' && row.state !== 'loading') return;
    for (const w of workers) {
      w.credit = Math.max(w.credit, 2);
      sched.dispatch(w);
    }
    await settle();
    await settle();
    for (const w of workers) {
      const tasks = w.inbox.splice(0);
      sched.results(w, tasks.map((t) => {
        const out = pi.run(pi.validateInput(decodeInput(t.input!)));
        const lie = Number(t.seq) >= w.lieFromSeq ? w.lie : 0;
        return { taskId: Number(t.taskId), output: encodeOutput(pi, { ...out, inside: out.inside + lie }), cpuMs: 1 };
      }));
    }
    await settle();
    await settle();
  }
  throw new Error('batch did not finish');
}

function canonicalOutputs(id: string) {
  return store.results(id, -1, 1_000_000).map((r) => ({ seq: r.seq, state: r.state, out: r.output ? (decodeJson(r.output) as { inside: number }) : null, input: decodeJson(r.input) }));
}

const policy = { replication: 2, quorum: 2, adaptive: true, trustAfter: 10, spotCheck: 0.1 };

describe('adaptive replication', () => {
  it('after warm-up, trusted honest workers run most work units as single copies', async () => {
    const workers = ['a', 'b', 'c'].map((k) => new FakeWorker(k));
    for (const w of workers) sched.attach(w);
    const warm = await batches.create({ kind: 'pi', params: { workUnits: 60, samplesPerUnit: 50 }, policy });
    await drive(warm, workers);
    const id = await batches.create({ kind: 'pi', params: { workUnits: 400, samplesPerUnit: 50 }, policy });
    await drive(id, workers);
    const row = store.getBatch(id)!;
    expect(row.state).toBe('completed');
    const perUnit = row.tasks_issued / row.total;
    expect(perUnit).toBeLessThan(1.3);
    expect(perUnit).toBeGreaterThan(1); // spot checks still happen
    const off = await batches.create({ kind: 'pi', params: { workUnits: 100, samplesPerUnit: 50 }, policy: { ...policy, adaptive: false } });
    await drive(off, workers);
    expect(store.getBatch(off)!.tasks_issued / 100).toBe(2);
  });

  it('a trusted worker that turns faulty is caught by a spot check and none of its wrong results stays canonical', async () => {
    const workers = ['a', 'b', 'c'].map((k) => new FakeWorker(k));
    for (const w of workers) sched.attach(w);
    const warm = await batches.create({ kind: 'pi', params: { workUnits: 60, samplesPerUnit: 50 }, policy });
    await drive(warm, workers);
    workers[0]!.lie = 7; // 'a' turns bad
    const id = await batches.create({ kind: 'pi', params: { workUnits: 300, samplesPerUnit: 50 }, policy });
    await drive(id, workers);
    const results = canonicalOutputs(id);
    expect(results).toHaveLength(300);
    let wrong = 0;
    for (const r of results) {
      const truth = pi.run(pi.validateInput(r.input));
      if (r.state !== 'validated' || r.out!.inside !== truth.inside) wrong++;
    }
    expect(wrong).toBe(0);
    const a = store.getWorker('a')!;
    expect(a.invalid).toBeGreaterThan(0);
    expect(a.consecutive_valid).toBe(0);
  });

  it('a worker that turns faulty at the very end of a batch cannot close it with unchecked wrong results', async () => {
    const workers = ['a', 'b', 'c'].map((k) => new FakeWorker(k));
    for (const w of workers) sched.attach(w);
    const warm = await batches.create({ kind: 'pi', params: { workUnits: 60, samplesPerUnit: 50 }, policy });
    await drive(warm, workers);
    // No spot checks at all: only the closing audit can catch a single copy.
    const id = await batches.create({ kind: 'pi', params: { workUnits: 300, samplesPerUnit: 50 }, policy: { ...policy, spotCheck: 0 } });
    // 'a' lies on the last few units of the batch: too few for a spot check to catch it before
    // the last unit is decided, so only the closing audit stands in the way.
    workers[0]!.lie = 3;
    workers[0]!.lieFromSeq = 290;
    await drive(id, workers);
    const wrong = canonicalOutputs(id).filter((r) => r.state !== 'validated' || r.out!.inside !== pi.run(pi.validateInput(r.input)).inside);
    expect(wrong).toHaveLength(0);
    expect(store.getBatch(id)!.state).toBe('completed');
  });
});
