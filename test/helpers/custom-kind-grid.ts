/**
 * The set-up the suites of per-task limits share (limits, heap-blowup, memory-cgroup): a local
 * grid, a coordinator with test-only custom kinds from test/fixtures/ added, and one worker that
 * trusts it (custom kinds run only under --trust), joined. Registers its own beforeAll and
 * afterAll in the calling describe block; tests read the processes from the returned object.
 */
import { afterAll, beforeAll } from 'vitest';
import { addKind, fixture } from '../worker/helpers.js';
import { type CoordinatorProcess, type GridProcess, TestGrid } from './grid.js';

export interface CustomKindGrid {
  readonly grid: TestGrid;
  coord: CoordinatorProcess;
  worker: GridProcess;
}

export function customKindGrid(opts: {
  /** Fixture file names (test/fixtures/) to add as custom kinds. */
  kinds: string[];
  threads: number;
  /** Worker options after `--trust KEY`, e.g. `['--max-memory', '600']`. */
  workerArgs?: string[];
  /** Starts the worker another way (e.g. through a launcher script), with `env`; it is awaited to `worker-started`. */
  spawnWorker?: (grid: TestGrid, coord: CoordinatorProcess, env: Record<string, string>) => GridProcess;
  /** Runs after the grid's processes are stopped (e.g. to remove what they ran in). */
  afterClose?: () => Promise<void> | void;
}): CustomKindGrid {
  const grid = new TestGrid();
  const ctx = { grid } as CustomKindGrid;
  // Task processes at normal priority: the limits are under test here, not the priority, and at
  // nice 19 on a busy machine filling 600 MB or pushing 1e8 numbers took minutes.
  const env = { SWARMGRID_THREAD_NICE: '0' };
  beforeAll(async () => {
    await grid.start();
    ctx.coord = await grid.coordinator();
    for (const kind of opts.kinds) addKind(ctx.coord.dataDir, fixture(kind));
    ctx.worker = opts.spawnWorker
      ? opts.spawnWorker(grid, ctx.coord, env)
      : await grid.worker({ threads: opts.threads, args: ['--trust', ctx.coord.key, ...(opts.workerArgs ?? [])], env });
    await ctx.worker.waitFor('worker-started');
    await ctx.coord.waitFor('worker-joined');
  }, 120_000); // four CLI and process start-ups: over a minute on a loaded two-core machine
  afterAll(async () => {
    await grid.close();
    await opts.afterClose?.();
  });
  return ctx;
}
