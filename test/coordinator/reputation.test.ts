/**
 * Reputation events are summed per tick and written once per worker per commit: the stored row
 * must equal applying the events one by one, in order (an invalid result resets the run of
 * consecutive valid ones), within a tick and across ticks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Reputation } from '../../coordinator/reputation.js';
import { type GridStore, SqliteStore } from '../../coordinator/store/index.js';

const tick = () => new Promise((r) => setTimeout(r, 5));
let dir: string;
let store: GridStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swarmgrid-rep-'));
  store = new SqliteStore({ dataDir: dir });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reputation', () => {
  it('stores what the events one by one would, in one write per worker per tick', async () => {
    const rep = new Reputation(store);
    rep.seen('a', 'node', '10.0.0.1');
    rep.seen('b', 'node', '10.0.0.2');
    await tick();
    const commits = store.commits;
    for (const e of ['valid', 'valid', 'invalid', 'valid', 'error', 'valid', 'timeout'] as const) rep.record('a', e, 10);
    rep.record('b', 'valid', 5);
    rep.record('b', 'valid', 5);
    await tick();
    expect(store.commits - commits).toBe(1);
    // CPU time is credited for valid results only: the invalid one and the error earn nothing.
    expect(store.getWorker('a')).toMatchObject({ valid: 4, invalid: 1, errors: 1, timeouts: 1, tasks_done: 6, cpu_ms: 40, consecutive_valid: 2 });
    expect(store.getWorker('b')).toMatchObject({ valid: 2, invalid: 0, consecutive_valid: 2, cpu_ms: 10 });
    // Across ticks the run goes on, and the in-memory view agrees with the store.
    rep.record('a', 'valid');
    rep.record('b', 'invalid');
    await tick();
    expect(store.getWorker('a')!.consecutive_valid).toBe(3);
    expect(store.getWorker('b')!.consecutive_valid).toBe(0);
    expect(rep.consecutiveValid('a')).toBe(3);
    expect(rep.consecutiveValid('b')).toBe(0);
    // A caught sibling's network: trust reset, nothing counted against the worker itself.
    rep.record('a', 'distrust');
    await tick();
    expect(store.getWorker('a')).toMatchObject({ consecutive_valid: 0, invalid: 1, valid: 5 });
    expect(rep.consecutiveValid('a')).toBe(0);
  });
});
