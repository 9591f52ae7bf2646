/**
 * Runaway tasks (issue 12, case 3): every task runs under a time limit, its lease when the
 * policy sets none; a task that spins inside a packed call of tiny tasks does not hold its
 * neighbours or the thread (the pack overruns its own limit, is split, and only the culprit is
 * charged); and a cancel stops the task on the worker, so that the next batch gets the thread.
 * The spinning kind is a test fixture registered as a custom kind, run under --trust.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, type GridProcess, eventually, TestGrid } from '../helpers/grid.js';
import { addKind, client, fixture, runBatch, tasks } from './helpers.js';

describe('runaway tasks', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;
  let worker: GridProcess;
  let other: GridProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
    addKind(coord.dataDir, fixture('spin-kind.mjs'));
    // One thread each: a task that kept it would stall everything after it. Two workers, so that
    // tasks whose lease ran out behind the spinner are re-issued (one network never gets a unit twice).
    worker = await grid.worker({ threads: 1, args: ['--trust', coord.key] });
    other = await grid.worker({ threads: 1, args: ['--trust', coord.key] });
    await eventually(() => coord.events.filter((e) => e.event === 'worker-joined').length >= 2 || undefined);
  }, 60_000);
  afterAll(() => grid.close());

  it('stops a spinning task packed with tiny ones at its lease when the policy sets no timeout, charging only that task', async () => {
    // Unit 70 comes long after the kind was measured tiny: it lands in a pack of up to 64.
    const lease = 8;
    const status = await runBatch(coord, {
      kind: 'spin',
      params: { units: 80, spinSeqs: '70' },
      policy: { replication: 1, quorum: 1, maxErrors: 1, timeout: 0, lease },
    }, 90_000);
    expect(status.counts).toMatchObject({ validated: 79, failed: 1 });
    const all = tasks(coord, status.id);
    const spun = all.filter((t) => t.seq === 70 && t.state === 'error');
    expect(spun.map((t) => t.error)).toEqual(['timeout']);
    // No other unit was charged for sharing a call with it.
    expect(all.filter((t) => t.seq !== 70 && t.state === 'error')).toEqual([]);
    const spinner = spun[0]!.worker === (await worker.waitFor('worker-started')).key ? worker : other;
    const failed = await spinner.waitFor('task-failed', (e) => e.task === spun[0]!.id);
    expect(failed.message).toMatch(/time limit of 8000 ms \(the lease length/);
    const ranFor = spun[0]!.finished_at! - spun[0]!.issued_at;
    console.log(`runaway packed task: lease ${lease * 1000} ms, stopped and reported ${ranFor} ms after issue (pack limit 2000 ms + its own limit)`);
    expect(worker.running && other.running).toBe(true);
  }, 120_000);

  it('frees the thread of a spinning task when its batch is cancelled: the next batch runs', async () => {
    // One worker left, so the next batch can only run if the spinner's thread is freed.
    await other.stop();
    const api = client(coord);
    const { id } = await api.submit({
      kind: 'spin',
      params: { units: 40, spinSeqs: '30' },
      // A lease far longer than the test: only the cancel can free the thread in time.
      policy: { replication: 1, quorum: 1, maxErrors: 1, timeout: 0, lease: 600 },
    });
    await eventually(async () => ((await api.status(id)).counts.validated >= 5 ? true : undefined), 60_000);
    // Past the pack limit (2 s): the spinner holds the thread, packed or alone, with the units it
    // was packed with waiting behind it.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await api.status(id)).counts.validated).toBeLessThan(39);
    const cancelledAt = Date.now();
    await api.cancel(id);
    const next = await runBatch(coord, { kind: 'pi', params: { workUnits: 2, samplesPerUnit: 1000, seed: 5 }, policy: { replication: 1, quorum: 1 } }, 30_000);
    expect(next.state).toBe('completed');
    const firstDone = Math.min(...tasks(coord, next.id).map((t) => t.finished_at!));
    console.log(`runaway task cancelled: the next batch's first task finished ${firstDone - cancelledAt} ms after the cancel`);
    expect(worker.running).toBe(true);
  }, 120_000);
});
