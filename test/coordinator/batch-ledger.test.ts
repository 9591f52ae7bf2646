/**
 * A batch's ledger (coordinator/batch-ledger.ts), on a real SQLite store: its moves are asserted
 * and stored with the change (memory never ahead of the row), its counters reach the row the way
 * they are kept in memory, and its events fire once each, with what happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchCounters } from '../../coordinator/batch-counters.js';
import { BatchLedger, type LedgerJob } from '../../coordinator/batch-ledger.js';
import { newUnit } from '../../coordinator/hot-unit.js';
import { batchView } from '../../coordinator/http/views.js';
import { KindCatalog } from '../../coordinator/kind-catalog.js';
import { resolvePolicy } from '../../coordinator/policy.js';
import { assertBatchTransition, BATCH_STATES, BATCH_TRANSITIONS } from '../../coordinator/states.js';
import { type GridStore, SqliteStore } from '../../coordinator/store/index.js';
import { agreeFor } from '../../coordinator/validator.js';
import { restartingParts } from '../helpers/coordinator-parts.js';

describe('batch transitions (states.ts)', () => {
  it('allows exactly the moves of the table, and throws on any other', () => {
    let allowed = 0;
    for (const from of BATCH_STATES) {
      for (const to of BATCH_STATES) {
        if (BATCH_TRANSITIONS[from].includes(to)) {
          expect(() => assertBatchTransition('b', from, to)).not.toThrow();
          allowed++;
        } else {
          expect(() => assertBatchTransition('b', from, to)).toThrow(`batch b: illegal transition ${from} → ${to}`);
        }
      }
    }
    expect(allowed).toBe(8);
    // Final states are final; finishing never goes back to running (no reopening once it closes).
    for (const final of ['completed', 'failed', 'cancelled'] as const) expect(BATCH_TRANSITIONS[final]).toEqual([]);
    expect(() => assertBatchTransition('b', 'finishing', 'running')).toThrow();
    expect(() => assertBatchTransition('b', 'finishing', 'cancelled')).toThrow();
  });
});

describe('BatchLedger', () => {
  let dir: string;
  let store: GridStore;
  let counters: BatchCounters;
  const echo = new KindCatalog().get('echo')!;
  const job: LedgerJob = { kind: echo.kind, codeHash: null, agree: agreeFor(echo.kind) };
  let seq = 0;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'swarmgrid-ledger-'));
    store = new SqliteStore({ dataDir: dir });
    counters = new BatchCounters(store);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A loading batch's row and its ledger. */
  function loading(policy: unknown = { replication: 1, quorum: 1 }): BatchLedger {
    const id = `batch${++seq}`;
    const resolved = resolvePolicy(policy);
    store.insertBatch({ id, kind: 'echo', kind_version: echo.kind.version, code_hash: null, params: null, policy: JSON.stringify(resolved), state: 'loading', priority: 0, owner: null });
    return new BatchLedger(store, counters, { id, policy: resolved, createdAt: Date.now(), job, state: 'loading' });
  }

  const unit = (ledger: BatchLedger, n: number) => newUnit(n, ledger.id, n, new Uint8Array([n]), 1, 1);

  it('throws on an illegal move and changes neither memory nor the row', () => {
    const ledger = loading();
    expect(() => ledger.finish()).toThrow(/illegal transition loading → completed/);
    expect(() => ledger.beginFinishing()).toThrow(/illegal transition loading → finishing/);
    expect(ledger.state).toBe('loading');
    expect(store.getBatch(ledger.id)!.state).toBe('loading');
    ledger.start(1);
    ledger.cancel();
    expect(() => ledger.start(1)).toThrow(/cancelled → running/);
    expect(() => ledger.cancel()).toThrow(/cancelled → cancelled/);
    expect(store.getBatch(ledger.id)!.state).toBe('cancelled');
  });

  it('stores each move with the change: memory moves only once the row has', () => {
    const ledger = loading();
    ledger.start(3);
    expect(ledger.state).toBe('running');
    expect(store.getBatch(ledger.id)).toMatchObject({ state: 'running', total: 3 });
    // finishing is a phase of a stored running batch (states.ts): nothing to write.
    for (let i = 1; i <= 3; i++) ledger.decide(unit(ledger, i), 'validated');
    ledger.beginFinishing();
    expect(store.getBatch(ledger.id)!.state).toBe('running');
    store.flush();
    ledger.finish(() => store.setBatchError(ledger.id, 'written with the move'));
    expect(ledger.state).toBe('completed');
    expect(store.getBatch(ledger.id)).toMatchObject({ state: 'completed', error: 'written with the move' });
    expect(store.getBatch(ledger.id)!.finished_at).not.toBeNull();

    // A move the store refuses leaves memory where the row is.
    const other = loading();
    store.close();
    expect(() => other.start(5)).toThrow();
    expect(other.state).toBe('loading');
    expect(other.total).toBe(0);
    store = new SqliteStore({ dataDir: dir });
  });

  it('counts decisions, issues and reopenings in memory and in the row alike, provisional included', () => {
    const ledger = loading({ replication: 1, quorum: 1, adaptive: true });
    ledger.start(4);
    ledger.taskIssued();
    ledger.taskIssued();
    ledger.taskIssued();
    ledger.decide(unit(ledger, 1), 'validated', true);
    ledger.decide(unit(ledger, 2), 'validated', true);
    ledger.decide(unit(ledger, 3), 'validated');
    ledger.decide(unit(ledger, 4), 'failed');
    ledger.reopened();
    expect([ledger.validated, ledger.failed, ledger.complete]).toEqual([2, 1, false]);
    // Nothing written yet: the sums go with the tick's transaction.
    expect(store.getBatch(ledger.id)).toMatchObject({ validated: 0, failed: 0, tasks_issued: 0, provisional: 0 });
    store.flush();
    expect(store.getBatch(ledger.id)).toMatchObject({ validated: 2, failed: 1, tasks_issued: 3, provisional: 1 });
    // The closing audit's reopenings: written at once, with the units'.
    const reopenedUnits: number[] = [];
    ledger.reopenNow([2], (wuId) => reopenedUnits.push(wuId));
    expect(reopenedUnits).toEqual([2]);
    expect(ledger.validated).toBe(1);
    expect(store.getBatch(ledger.id)).toMatchObject({ validated: 1, failed: 1, provisional: 0 });
  });

  it('holds hot units and the ready queue: re-issues first, a decided unit leaves both', () => {
    const ledger = loading();
    ledger.start(3);
    const [a, b, c] = [unit(ledger, 1), unit(ledger, 2), unit(ledger, 3)];
    for (const u of [a, b, c]) ledger.hold(u);
    ledger.enqueue(a);
    ledger.enqueue(b);
    c.issued = 1;
    ledger.enqueue(c); // started: to the front
    ledger.enqueue(c); // once only
    expect(ledger.ready.map((u) => u.id)).toEqual([3, 1, 2]);
    ledger.toFront(b);
    expect(ledger.ready.map((u) => u.id)).toEqual([2, 3, 1]);
    ledger.decide(c, 'validated');
    expect(ledger.ready.map((u) => u.id)).toEqual([2, 1]);
    expect([...ledger.hot.keys()]).toEqual([1, 2]);
    expect(c.done && !c.queued).toBe(true);
    // Decided but not committed yet: the feeder must not load it back as pending.
    expect(ledger.isSettling(3)).toBe(true);
    store.flush();
    expect(ledger.isSettling(3)).toBe(false);
  });

  it('fires each event once, with the ledger and what happened', () => {
    const ledger = loading();
    const seen: string[] = [];
    ledger.on('stateChanged', (l, to, from) => seen.push(`${l.id === ledger.id ? 'state' : '?'} ${from}→${to}`));
    ledger.on('unitDecided', (l, u, outcome) => seen.push(`${l.id === ledger.id ? 'unit' : '?'} ${u.id} ${outcome}`));
    ledger.on('decided', (l) => seen.push(`decided ${l.validated}+${l.failed}/${l.total}`));
    ledger.on('finished', (l, state) => seen.push(`finished ${state} (stored ${store.getBatch(l.id)!.state})`));
    ledger.start(2);
    ledger.decide(unit(ledger, 1), 'validated');
    ledger.decide(unit(ledger, 2), 'failed');
    ledger.beginFinishing();
    ledger.finish();
    expect(seen).toEqual([
      'state loading→running',
      'unit 1 validated',
      'unit 2 failed',
      'decided 1+1/2',
      'state running→finishing',
      'state finishing→failed',
      'finished failed (stored failed)',
    ]);
  });

  it('says decided at start when every unit already was, and not while loading', () => {
    const ledger = loading();
    let decided = 0;
    ledger.on('decided', () => decided++);
    ledger.decide(unit(ledger, 1), 'validated'); // decided while the upload streams in
    expect(decided).toBe(0);
    ledger.start(1);
    expect(decided).toBe(1);
  });

  it('a stalled batch: stored as running with its note, shown as running without an ETA, cancelled with the note cleared', () => {
    const ledger = loading();
    ledger.start(2);
    ledger.stall('its kind is gone');
    expect(ledger.state).toBe('stalled');
    expect(store.getBatch(ledger.id)).toMatchObject({ state: 'running', error: 'stalled: its kind is gone' });
    expect(batchView(store.getBatch(ledger.id)!, ledger)).toMatchObject({ state: 'running', ratePerSecond: 0, etaSeconds: null, error: 'stalled: its kind is gone' });
    ledger.cancel();
    expect(store.getBatch(ledger.id)).toMatchObject({ state: 'cancelled', error: null });
    expect(batchView(store.getBatch(ledger.id)!, ledger).state).toBe('cancelled');
  });

  it('a finishing batch is shown as finishing (the row says running until its artifact is in)', () => {
    const ledger = loading();
    ledger.start(1);
    ledger.decide(unit(ledger, 1), 'validated');
    store.flush();
    expect(batchView(store.getBatch(ledger.id)!, ledger).state).toBe('running');
    ledger.beginFinishing();
    expect(batchView(store.getBatch(ledger.id)!, ledger).state).toBe('finishing');
    expect(store.getBatch(ledger.id)!.state).toBe('running');
  });
});

describe('a ledger across a restart', () => {
  const { start, restart, cleanup } = restartingParts();
  afterEach(cleanup);

  it('a restarted coordinator sees the state, counts and total the ledger stored', async () => {
    let { batches, store, sched } = start();
    const id = await batches.create({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }, { a: 3 }], policy: { replication: 1, quorum: 1 } });
    const before = batches.ledger(id)!;
    expect(before.state).toBe('running');
    expect(sched.batches.get(id)).toBe(before);
    expect(store.getBatch(id)).toMatchObject({ state: 'running', total: 3 });
    ({ batches, store, sched } = restart());
    batches.recover();
    const after = batches.ledger(id)!;
    expect([after.state, after.total, after.validated, after.failed]).toEqual(['running', 3, 0, 0]);
    batches.cancel(id);
    expect(batches.ledger(id)).toBeUndefined();
    expect(sched.batches.has(id)).toBe(false);
    ({ batches, store, sched } = restart());
    batches.recover();
    expect(batches.ledger(id)).toBeUndefined();
    expect(store.getBatch(id)!.state).toBe('cancelled');
  });
});
