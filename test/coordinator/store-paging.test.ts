/**
 * The store's reads are bounded: what a caller needs whole is read in keyset pages of
 * STORE_PAGE rows, and must come out whole, once each, in order, however the rows tie (many
 * batches created in one millisecond, many leases with one deadline) and whatever the caller
 * changes between pages (recovery deletes and updates the batches it walks). A real SQLite store
 * in a temp dir, filled past several pages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { StoredBatchState } from '../../coordinator/states.js';
import { type GridStore, SqliteStore, STORE_PAGE } from '../../coordinator/store/index.js';

let dir: string;
let store: GridStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swarmgrid-paging-'));
  store = new SqliteStore({ dataDir: dir });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const STATES: StoredBatchState[] = ['loading', 'running', 'completed', 'cancelled'];

/**
 * `n` batches, states in turn; created in a few ms, so created_at ties across page ends, and ids
 * out of creation order (ids are random), so that only the (created_at, id) pair orders them.
 */
function batches(n: number): Map<string, StoredBatchState> {
  const made = new Map<string, StoredBatchState>();
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = ((i * 7919) % 65_521).toString(16).padStart(16, '0');
      const state = STATES[i % STATES.length]!;
      store.insertBatch({ id, kind: 'echo', kind_version: '1.0.0', code_hash: null, params: null, policy: '{}', state, priority: 0, owner: null });
      made.set(id, state);
    }
  });
  return made;
}

it('walks every batch in the given states once, newest first, while the caller deletes and changes what it walked', () => {
  const made = batches(STORE_PAGE * 4 + 7);
  const want = [...made].filter(([, s]) => s === 'loading' || s === 'running').map(([id]) => id);
  const seen: string[] = [];
  let last: { created_at: number; id: string } | undefined;
  for (const row of store.batchesInState('loading', 'running')) {
    expect(['loading', 'running']).toContain(row.state);
    if (last) expect(row.created_at < last.created_at || (row.created_at === last.created_at && row.id < last.id)).toBe(true);
    last = row;
    seen.push(row.id);
    // What recovery does between pages: drop the loading ones, note the running ones.
    if (row.state === 'loading') store.deleteBatch(row.id);
    else store.setBatchError(row.id, 'stalled: …');
  }
  expect(seen).toHaveLength(want.length);
  expect(new Set(seen)).toEqual(new Set(want));
  expect([...store.batchesInState('loading')]).toEqual([]);
});

it('lists at most `limit` batches of a state, newest first, and pages on from a cursor', () => {
  const made = batches(300);
  const running = store.listBatches(50, ['running']);
  expect(running).toHaveLength(50);
  expect(running.every((b) => b.state === 'running')).toBe(true);
  const next = store.listBatches(50, ['running'], running[49]);
  expect(next).toHaveLength(25); // 75 running in all
  expect(new Set([...running, ...next].map((b) => b.id))).toEqual(new Set([...made].filter(([, s]) => s === 'running').map(([id]) => id)));
  expect(store.listBatches(10)).toHaveLength(10);
  expect(store.batchCountsByState().sort((a, b) => a.state.localeCompare(b.state))).toEqual([
    { state: 'cancelled', n: 75 }, { state: 'completed', n: 75 }, { state: 'loading', n: 75 }, { state: 'running', n: 75 },
  ]);
});

it('reads every leased task once, across pages of one deadline, and a batch\'s leases alone', () => {
  const [a, b] = [...batches(2).keys()] as [string, string];
  const n = STORE_PAGE * 2 + 3;
  store.insertWorkUnits(a, 0, Array.from({ length: n }, () => new Uint8Array([1])));
  store.insertWorkUnits(b, 0, [new Uint8Array([2])]);
  const units = store.pendingWorkUnits(a, 0, n);
  expect(units).toHaveLength(n);
  const [other] = store.pendingWorkUnits(b, 0, 10);
  store.transaction(() => {
    // Two deadlines only: most rows tie, and ids are not in deadline order.
    units.forEach((u, i) => store.insertTask({ id: 10_000 - i, wuId: u.id, worker: 'w', address: '10.0.0.1', runtime: 'node', provisional: false, issuedAt: 1, deadline: i % 2 ? 5 : 7 }));
    store.insertTask({ id: 20_000, wuId: other!.id, worker: 'w', address: '10.0.0.1', runtime: 'node', provisional: false, issuedAt: 1, deadline: 6 });
    store.insertTask({ id: 20_001, wuId: other!.id, worker: 'w', address: '10.0.0.1', runtime: 'node', provisional: false, issuedAt: 1, deadline: 6 });
    store.setTaskState(20_001, 'returned');
  });
  const leased = [...store.leasedTasks()];
  expect(leased).toHaveLength(n + 1);
  expect(new Set(leased.map((t) => t.id)).size).toBe(n + 1);
  expect(leased.find((t) => t.id === 20_000)).toMatchObject({ batch_id: b, wu_id: other!.id, deadline: 6 });
  const ofA = store.leasedTaskIdsOf(a);
  expect(ofA).toHaveLength(n);
  expect(new Set(ofA)).toEqual(new Set(units.map((_, i) => 10_000 - i)));
  expect(store.leasedTaskIdsOf(b)).toEqual([20_000]);
});

it('reads every token and every kind once, across pages', () => {
  const tokens = STORE_PAGE + 5;
  store.transaction(() => {
    for (let i = 0; i < tokens; i++) store.insertToken({ hash: (i * 7919).toString(16).padStart(64, '0'), name: `t${i}`, role: 'submitter', created_at: i % 3 });
    for (let i = 0; i < 40; i++) {
      store.putKind({ name: `kind-${String(i).padStart(2, '0')}`, version: '1.0.0', code_hash: Buffer.alloc(32, i), code: Buffer.from('x'), signature: Buffer.alloc(64), added_at: i });
    }
  });
  const all = [...store.tokens()];
  expect(all).toHaveLength(tokens);
  expect(new Set(all.map((t) => t.hash)).size).toBe(tokens);
  // Oldest first, ties by hash.
  for (let i = 1; i < all.length; i++) {
    const [p, q] = [all[i - 1]!, all[i]!];
    expect(p.created_at < q.created_at || (p.created_at === q.created_at && p.hash < q.hash)).toBe(true);
  }
  const hash = all[17]!.hash;
  expect(store.tokensWithHashPrefix(hash.slice(0, 62), 10).map((t) => t.hash)).toContain(hash);
  expect(store.tokensWithHashPrefix(hash, 10)).toEqual([all[17]]);
  expect([...store.kinds()].map((k) => k.name)).toEqual(Array.from({ length: 40 }, (_, i) => `kind-${String(i).padStart(2, '0')}`));
});
