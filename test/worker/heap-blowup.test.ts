/**
 * A task that blows its heap limit costs that task only (issue 12, case 4): a custom kind whose
 * marked unit pushes 1e8 numbers into one array under `memoryMb: 128` used to take the whole
 * worker process down (V8's "Reached heap limit", exit 134: a worker thread's heap limit does not
 * hold for one allocation that far past it), with every other task of that worker, and no
 * `out_of_memory` was reported. Custom kinds now run in task processes: the task ends as an
 * `out_of_memory` task error and the worker, and its other tasks, carry on. Likewise at the
 * worker's --max-memory ceiling: the task process holding the memory is stopped, not its neighbours.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { customKindGrid } from '../helpers/custom-kind-grid.js';
import { runBatch, tasks } from './helpers.js';

describe('a task that blows its heap', () => {
  // Two threads: the other tasks run beside the one that blows up.
  const g = customKindGrid({ kinds: ['hog-kind.mjs'], threads: 2, workerArgs: ['--max-memory', '600'] });

  it('ends as out_of_memory for that task only; the worker process and its other tasks survive', async () => {
    const status = await runBatch(g.coord, {
      kind: 'hog',
      params: { units: 8, hogSeqs: '', pushSeqs: '3' },
      policy: { replication: 1, quorum: 1, maxErrors: 1, memoryMb: 128, timeout: 120 },
    }, 120_000);
    expect(g.worker.running, `worker exited ${g.worker.proc.exitCode ?? g.worker.proc.signalCode}: ${g.worker.stderr.join('').slice(-300)}`).toBe(true);
    expect(status.counts).toMatchObject({ validated: 7, failed: 1 });
    const all = tasks(g.coord, status.id);
    const blown = all.filter((t) => t.seq === 3);
    expect(blown.map((t) => t.error)).toEqual(['out_of_memory']);
    expect(all.filter((t) => t.seq !== 3).every((t) => t.state === 'valid')).toBe(true);
    const failed = await g.worker.waitFor('task-failed', (e) => e.task === blown[0]!.id);
    expect(failed.message).toMatch(/heap out of memory at its limit of 128 MB/);
    // The same worker still serves: built-in kinds on its threads, custom ones in fresh processes.
    const again = await runBatch(g.coord, { kind: 'hog', params: { units: 2, hogSeqs: '' }, policy: { replication: 1, quorum: 1 } });
    expect(again.state).toBe('completed');
    const pi = await runBatch(g.coord, { kind: 'pi', params: { workUnits: 2, samplesPerUnit: 1000, seed: 9 }, policy: { replication: 1, quorum: 1 } });
    expect(pi.state).toBe('completed');
    expect(g.worker.events.filter((e) => e.event === 'worker-started')).toHaveLength(1);
  }, 180_000);

  it('at the --max-memory ceiling, stops only the task process holding the memory, not its neighbour', async () => {
    // seq 0 fills ArrayBuffers (outside any heap limit) in its process; seq 1 computes beside
    // it until that process has ended, and 2 s more (at most 120 s).
    const mark = join(g.grid.tempDir('swarmgrid-hog-'), 'pid');
    const status = await runBatch(g.coord, {
      kind: 'hog',
      params: { units: 2, hogSeqs: '', bufSeqs: '0', busySeqs: '1', busyMs: 120_000, mark },
      policy: { replication: 1, quorum: 1, maxErrors: 1, memoryMb: 64, timeout: 150 },
    }, 170_000);
    expect(g.worker.running).toBe(true);
    const all = tasks(g.coord, status.id);
    expect(all.filter((t) => t.seq === 0).map((t) => t.error)).toEqual(['out_of_memory']);
    expect(all.filter((t) => t.seq === 1).map((t) => [t.state, t.error])).toEqual([['valid', null]]);
    // The neighbour was running when the hog was stopped: out before, back after.
    const [hog, busy] = [all.find((t) => t.seq === 0)!, all.find((t) => t.seq === 1)!];
    expect(busy.issued_at).toBeLessThanOrEqual(hog.finished_at!);
    expect(busy.finished_at!).toBeGreaterThanOrEqual(hog.finished_at!);
    expect(status.counts).toMatchObject({ validated: 1, failed: 1 });
  }, 180_000);
});
