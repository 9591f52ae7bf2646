/**
 * Per-task limits from the batch policy, enforced by a real worker process: a task that never
 * returns is stopped at policy.timeout and reported `timeout`; one that allocates without bound
 * is stopped at policy.memoryMb and reported `out_of_memory`, and so is one that fills memory
 * outside the JS heap, at the worker's --max-memory ceiling; either way the worker keeps serving.
 * The misbehaving kinds are test fixtures registered as custom kinds, run under --trust.
 */
import { describe, expect, it } from 'vitest';
import { customKindGrid } from '../helpers/custom-kind-grid.js';
import { runBatch, tasks } from './helpers.js';

describe('per-task limits', () => {
  // One thread: the runaway task holds the only thread, so "the next tasks still ran" means
  // the limit freed it.
  const g = customKindGrid({ kinds: ['spin-kind.mjs', 'hog-kind.mjs'], threads: 1, workerArgs: ['--max-memory', '768'] });

  it('stops an infinite loop at its time limit, reports it as timeout, and runs the next tasks', async () => {
    const status = await runBatch(g.coord, {
      kind: 'spin',
      params: { units: 4, spinSeqs: '0' },
      policy: { replication: 1, quorum: 1, maxErrors: 1, timeout: 1 },
    });
    expect(status.counts).toMatchObject({ validated: 3, failed: 1 });
    const all = tasks(g.coord, status.id);
    const spun = all.find((t) => t.seq === 0)!;
    expect(spun.state).toBe('error');
    expect(spun.error).toBe('timeout');
    expect((await g.worker.waitFor('task-failed', (e) => e.task === spun.id)).message).toMatch(/time limit of 1000 ms/);
    const ranFor = spun.finished_at! - spun.issued_at;
    expect(ranFor).toBeGreaterThanOrEqual(1000);
    expect(ranFor).toBeLessThan(5000);
    const after = all.filter((t) => t.seq > 0 && t.state === 'valid' && t.finished_at! >= spun.finished_at!);
    expect(after.length).toBeGreaterThan(0);
    expect(g.worker.running).toBe(true);
  });

  it('stops a task that exhausts its heap, reports it as out_of_memory, and keeps serving', async () => {
    const status = await runBatch(g.coord, {
      kind: 'hog',
      params: { units: 4, hogSeqs: '0' },
      policy: { replication: 1, quorum: 1, maxErrors: 1, memoryMb: 64, timeout: 60 },
    });
    expect(status.counts).toMatchObject({ validated: 3, failed: 1 });
    const all = tasks(g.coord, status.id);
    const hog = all.find((t) => t.seq === 0)!;
    expect(hog.state).toBe('error');
    expect(hog.error).toBe('out_of_memory');
    expect((await g.worker.waitFor('task-failed', (e) => e.task === hog.id)).message).toMatch(/heap out of memory/);
    expect(all.filter((t) => t.seq > 0 && t.state === 'valid' && t.finished_at! >= hog.finished_at!).length).toBeGreaterThan(0);
    // And the worker still runs built-in kinds afterwards, in its default pool.
    const pi = await runBatch(g.coord, { kind: 'pi', params: { workUnits: 4, samplesPerUnit: 1000, seed: 3 }, policy: { replication: 1, quorum: 1 } });
    expect(pi.state).toBe('completed');
    expect(g.worker.running).toBe(true);
  });

  it('stops a task that fills memory outside the heap at the worker\'s --max-memory ceiling', async () => {
    const status = await runBatch(g.coord, {
      kind: 'hog',
      params: { units: 3, hogSeqs: '', bufSeqs: '0' },
      policy: { replication: 1, quorum: 1, maxErrors: 1, memoryMb: 64, timeout: 120 },
    }, 150_000);
    expect(status.counts).toMatchObject({ validated: 2, failed: 1 });
    const buf = tasks(g.coord, status.id).find((t) => t.seq === 0)!;
    expect(buf.error).toBe('out_of_memory');
    const failed = await g.worker.waitFor('task-failed', (e) => e.task === buf.id);
    expect(failed.message).toMatch(/memory ceiling of 768 MB/);
    expect(g.worker.running).toBe(true);
    // Filling 768 MB at nice 19 takes 10-60 s on a busy two-core machine.
  }, 180_000);
});
