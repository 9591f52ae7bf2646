/**
 * The coordinator's core in-process, for unit tests of its logic: a real SQLite store in a temp
 * dir (or a given one, to restart on), the scheduler and the batch manager, wired as
 * coordinator.ts wires them; no network. Runs as a local grid (identities are independent) unless
 * `scheduler.networks` says otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchManager } from '../../coordinator/batches.js';
import { KindCatalog } from '../../coordinator/kind-catalog.js';
import { Scheduler, type SchedulerOptions } from '../../coordinator/scheduler.js';
import { type GridStore, SqliteStore } from '../../coordinator/store/index.js';

export interface CoordinatorParts {
  dir: string;
  store: GridStore;
  sched: Scheduler;
  batches: BatchManager;
  /** Stops the scheduler and closes the store; removes the dir when it was made here. */
  close(): void;
}

export function coordinatorParts(options: { dir?: string; scheduler?: SchedulerOptions } = {}): CoordinatorParts {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'swarmgrid-core-'));
  const store = new SqliteStore({ dataDir: dir });
  // Identities count as independent unless a test says otherwise (a local grid): these tests
  // are about scheduling and validation; test/security/ covers networks.
  const sched = new Scheduler(store, { networks: { independence: 'identity' }, ...options.scheduler });
  const batches = new BatchManager(store, sched, new KindCatalog());
  return {
    dir, store, sched, batches,
    close() {
      sched.close();
      store.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Coordinator parts on one data dir that outlive a restart, for tests of what a restart keeps.
 * `start()` opens them (making the dir the first time), `restart()` closes and reopens them on
 * the same store as a coordinator restart does; `cleanup()` closes them and removes the dir (call
 * it from afterEach; the next `start()` makes a new dir).
 */
export function restartingParts(options: { scheduler?: SchedulerOptions } = {}) {
  let dir = '';
  let current: CoordinatorParts | undefined;
  const start = (): CoordinatorParts => {
    dir ||= mkdtempSync(join(tmpdir(), 'swarmgrid-restart-'));
    return (current = coordinatorParts({ dir, ...options }));
  };
  return {
    start,
    restart(): CoordinatorParts {
      current?.close();
      return start();
    },
    cleanup(): void {
      current?.close();
      current = undefined;
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = '';
    },
  };
}

/**
 * A two-unit echo batch (replication 1, `policy` added) whose two tasks are out at a worker
 * that never answers, committed to the store: leases for a restart to recover. Returns its id.
 */
export async function batchWithLeases(parts: CoordinatorParts, policy: { lease?: number } = {}): Promise<string> {
  const id = await parts.batches.create({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }], policy: { replication: 1, quorum: 1, ...policy } });
  const worker = { key: 'w', address: '10.0.0.1', runtime: 'node' as const, threads: 1, credit: 2, canRun: () => true, sendTasks: () => {}, sendCancel: () => {} };
  parts.sched.attach(worker);
  parts.sched.dispatch(worker);
  parts.store.flush();
  return id;
}

/**
 * Waits until the coordinator's chained deferred work has run: a result schedules a dispatch
 * (setImmediate), whose tasks are sent once the store commits (another setImmediate). A timer
 * alone is not enough: on a loaded machine `ms` can pass between the two immediates, and the
 * timer then fires before the commit (a CI run saw a dispatched pair not yet sent). So: at least
 * `ms` of wall time, then `rounds` event-loop turns, each running every immediate queued so far.
 *
 * @param ms - wall time first (lease sweeps and hold-offs run on timers). @defaultValue 5
 * @param rounds - setImmediate turns after it. @defaultValue 4
 */
export async function settle(ms = 5, rounds = 4): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
