/**
 * Results that change (issue 12, case 6): on an adaptive batch a trusted worker turns faulty, its
 * single copies are reopened and re-decided. A client following `/results?after=` must never
 * have been shown a decision that changed afterwards, and `counts.validated` must never go down.
 * In-process coordinator (real store, scheduler, HTTP routes via inject) with scripted workers,
 * as in adaptive.test.ts.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchManager } from '../../coordinator/batches.js';
import { buildHttp } from '../../coordinator/http/server.js';
import { KindCatalog } from '../../coordinator/kind-catalog.js';
import type { Scheduler } from '../../coordinator/scheduler.js';
import type { GridStore } from '../../coordinator/store/index.js';
import type { WorkerHandle } from '../../coordinator/worker-handle.js';
import { decodeInput, encodeOutput } from '../../jobs/codec.js';
import { pi } from '../../jobs/pi.js';
import type { swarmgrid } from '../../proto/codec.js';
import { type CoordinatorParts, coordinatorParts } from '../helpers/coordinator-parts.js';
import { readStore } from '../helpers/sqlite.js';

class ScriptedWorker implements WorkerHandle {
  credit = 0;
  threads = 64;
  inbox: swarmgrid.ITask[] = [];
  lie = 0;
  /** Lie only on work units from this seq on. */
  lieFromSeq = 0;
  constructor(readonly key: string, readonly address = `10.0.0.${key.charCodeAt(0)}`, readonly runtime: 'node' | 'browser' = 'node') {}
  canRun() { return true; }
  sendTasks(t: swarmgrid.ITask[]) { this.inbox.push(...t); }
  sendCancel(ids: number[]) { this.inbox = this.inbox.filter((t) => !ids.includes(Number(t.taskId))); }
}

interface Line { seq: number; state: string; output?: { inside: number; samples: number }; agreed?: number; reason?: string }

const settle = () => new Promise((r) => setImmediate(r));
let parts: CoordinatorParts;
let store: GridStore;
let sched: Scheduler;
let batches: BatchManager;
let app: FastifyInstance;

beforeEach(async () => {
  let s = 42;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  parts = coordinatorParts({ scheduler: { sweepMs: 1000, random } });
  ({ store, sched, batches } = parts);
  app = await buildHttp({
    store, scheduler: sched, batches, catalog: new KindCatalog(), sessions: () => [], publicKey: 'test', grid: 'test',
    startedAt: Date.now(), private: false, bodyLimit: 1 << 20, rateLimit: 1000, uploadIdleMs: 30_000, maxReaders: 64,
  });
});
afterEach(async () => {
  await app.close();
  parts.close();
});

async function status(id: string): Promise<{ state: string; total: number; counts: Record<string, number>; progress: number }> {
  const res = await app.inject({ method: 'GET', url: `/v1/batches/${id}` });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function results(id: string, after: number): Promise<Line[]> {
  const res = await app.inject({ method: 'GET', url: `/v1/batches/${id}/results?after=${after}` });
  expect(res.statusCode).toBe(200);
  return res.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

/** One round: every worker pulls and answers (a liar adds `lie` to `inside`). */
async function round(workers: ScriptedWorker[]): Promise<void> {
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
      return { taskId: Number(t.taskId), output: encodeOutput(pi, { ...out, inside: out.inside + (Number(t.seq) >= w.lieFromSeq ? w.lie : 0) }), cpuMs: 1 };
    }));
  }
  await settle();
  await settle();
}

const policy = { replication: 2, quorum: 2, adaptive: true, trustAfter: 10, spotCheck: 0.1 };

/**
 * Follows a batch as a client does, round after round: status, then `/results?after=` from its
 * cursor. Then checks what it was shown against the final results.
 */
async function follow(id: string, workers: ScriptedWorker[]): Promise<{ changed: number; drops: number; wrong: number; provisionalPeak: number; lines: number }> {
  const seen = new Map<number, Line>();
  let after = -1;
  let lastValidated = 0;
  let lastProgress = 0;
  let drops = 0;
  let provisionalPeak = 0;
  for (let i = 0; i < 10_000; i++) {
    const s = await status(id);
    if (s.counts.validated! < lastValidated || s.progress < lastProgress) drops++;
    lastValidated = s.counts.validated!;
    lastProgress = s.progress;
    provisionalPeak = Math.max(provisionalPeak, s.counts.provisional ?? 0);
    for (const line of await results(id, after)) {
      expect(seen.has(line.seq)).toBe(false); // a resumed cursor never repeats a line
      seen.set(line.seq, line);
      after = line.seq;
    }
    if (s.state !== 'running' && s.state !== 'finishing' && s.state !== 'loading') break;
    await round(workers);
  }
  const final = await status(id);
  expect(final.state).toBe('completed');
  expect(final.counts.validated).toBe(final.total);
  for (const line of await results(id, after)) seen.set(line.seq, line);
  const truth = await results(id, -1);
  expect(truth).toHaveLength(final.total);
  let changed = 0;
  let wrong = 0;
  for (const t of truth) {
    const line = seen.get(t.seq);
    expect(line).toBeDefined();
    if (JSON.stringify(line) !== JSON.stringify(t)) changed++;
    const row = readStore(parts.dir, (db) => db.prepare('SELECT input FROM work_units WHERE batch_id = ? AND seq = ?').get(id, t.seq) as { input: Buffer });
    if (t.output?.inside !== pi.run(pi.validateInput(decodeInput(row.input))).inside) wrong++;
  }
  expect(final.counts.provisional ?? 0).toBe(0);
  return { changed, drops, wrong, provisionalPeak, lines: seen.size };
}

async function warmUp(workers: ScriptedWorker[]): Promise<void> {
  for (const w of workers) sched.attach(w);
  const warm = await batches.create({ kind: 'pi', params: { workUnits: 60, samplesPerUnit: 50 }, policy });
  while (store.getBatch(warm)!.state === 'running') await round(workers);
}

describe('results that change (adaptive batch, a trusted worker turns faulty)', () => {
  it('caught by a spot check: a client resuming with ?after= never sees a decision that later changes', async () => {
    const workers = ['a', 'b', 'c'].map((k) => new ScriptedWorker(k));
    await warmUp(workers);
    workers[0]!.lie = 7; // 'a', trusted by now, turns bad
    const id = await batches.create({ kind: 'pi', params: { workUnits: 300, samplesPerUnit: 50 }, policy });
    const r = await follow(id, workers);
    console.log(`spot check: ${r.lines} lines streamed, ${r.changed} changed afterwards, counter drops ${r.drops}, provisional peak ${r.provisionalPeak}`);
    expect(store.getWorker('a')!.invalid).toBeGreaterThan(0); // the liar was caught and its copies reopened
    expect(r.changed).toBe(0);
    expect(r.drops).toBe(0);
    expect(r.wrong).toBe(0);
  }, 120_000);

  it('caught by the closing audit: counts.validated and progress never go backwards when many units reopen at once', async () => {
    const workers = ['a', 'b', 'c'].map((k) => new ScriptedWorker(k));
    await warmUp(workers);
    // No spot checks: the closing audit reopens every single copy nobody vouched for, at once.
    const id = await batches.create({ kind: 'pi', params: { workUnits: 300, samplesPerUnit: 50 }, policy: { ...policy, spotCheck: 0 } });
    workers[0]!.lie = 3;
    workers[0]!.lieFromSeq = 290;
    const r = await follow(id, workers);
    console.log(`closing audit: ${r.lines} lines streamed, ${r.changed} changed afterwards, counter drops ${r.drops}, provisional peak ${r.provisionalPeak}`);
    expect(r.changed).toBe(0);
    expect(r.drops).toBe(0);
    expect(r.wrong).toBe(0);
  }, 120_000);
});
