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
import { Store } from '../../coordinator/store.js';

export interface CoordinatorParts {
  dir: string;
  store: Store;
  sched: Scheduler;
  batches: BatchManager;
  /** Stops the scheduler and closes the store; removes the dir when it was made here. */
  close(): void;
}

export function coordinatorParts(options: { dir?: string; scheduler?: SchedulerOptions } = {}): CoordinatorParts {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'swarmgrid-core-'));
  const store = new Store({ dataDir: dir });
  let batches: BatchManager | undefined;
  // Identities count as independent unless a test says otherwise (a local grid): these tests
  // are about scheduling and validation; test/security/ covers networks.
  const sched = new Scheduler(store, { networks: { independence: 'identity' }, ...options.scheduler }, { onBatchDecided: (b) => batches?.batchDecided(b) });
  batches = new BatchManager(store, sched, new KindCatalog());
  return {
    dir, store, sched, batches,
    close() {
      sched.close();
      store.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
