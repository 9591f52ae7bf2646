/**
 * --idle-only with a real worker process and a real CPU hog: the worker takes tasks only once the
 * machine's non-grid load stayed low for --idle-after seconds, pauses (handing its queued task
 * back) as soon as another program burns both cores, takes nothing while paused, and resumes once
 * the hog is gone. The machine is shared with other suites, so the hog burns every core and the
 * threshold sits well between "someone else's tests" and "all cores busy".
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, type GridProcess, type LogEvent, TestGrid } from '../helpers/grid.js';
import { client, tasks } from './helpers.js';

const at = (e: LogEvent) => Date.parse(e.time as string);

/** A child process that keeps every core busy until killed. */
function burnAllCores() {
  const src = `const { Worker } = require('node:worker_threads');
for (let i = 1; i < ${availableParallelism()}; i++) new Worker('for (;;) {}', { eval: true });
for (;;) {}`;
  return spawn(process.execPath, ['-e', src], { stdio: 'ignore' });
}

describe('--idle-only', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;
  let worker: GridProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
    worker = await grid.worker({ threads: 1, args: ['--idle-only', '--idle-after', '1', '--max-host-load', '80'] });
  });
  afterAll(() => grid.close());

  it('pauses while another program burns the CPU, hands its queued task back, and resumes after', async () => {
    const key = (await worker.waitFor('worker-started')).key as string;
    await worker.waitFor('worker-paused', (e) => e.reason === 'waiting for the machine to be idle');
    await worker.waitFor('worker-resumed', () => true, 45_000);
    const { id } = await client(coord).submit({ kind: 'pi', params: { workUnits: 400, samplesPerUnit: 2_000_000, seed: 5 }, policy: { replication: 1, quorum: 1 } });
    const working = () => tasks(coord, id).filter((t) => t.worker === key && t.state === 'valid').length;
    await eventually(() => working() >= 3, 60_000);

    // Other suites share this machine and may have paused the worker before: only events after
    // the hog started count.
    const hogStart = Date.now();
    const hog = burnAllCores();
    let paused: LogEvent;
    try {
      paused = await worker.waitFor('worker-paused', (e) => e.reason === 'host busy' && at(e) >= hogStart - 20, 15_000);
      const busy = worker.events.find((e) => e.event === 'host-busy' && at(e) >= hogStart - 20)!;
      expect(busy.load as number).toBeGreaterThan(0.8);
      // Stay busy a while: nothing may be issued to the worker meanwhile.
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      hog.kill('SIGKILL');
    }
    const resumed = await worker.waitFor('worker-resumed', (e) => at(e) > at(paused), 45_000);
    expect(at(resumed) - at(paused)).toBeGreaterThanOrEqual(1000); // --idle-after 1

    const mine = tasks(coord, id).filter((t) => t.worker === key);
    // The queued task went back at once (not after its lease) ...
    expect(mine.filter((t) => t.state === 'abandoned').length).toBeGreaterThanOrEqual(1);
    // ... and no new task was issued while paused (a small margin for frames already in flight).
    expect(mine.filter((t) => t.issued_at > at(paused) + 250 && t.issued_at < at(resumed))).toEqual([]);
    // Work flows again after resuming.
    const before = working();
    await eventually(() => working() > before + 2, 60_000);
  }, 180_000);
});

