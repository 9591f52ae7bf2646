/**
 * A coordinator that goes away and comes back (same data directory, same key) is redialled with
 * backoff, and results computed while it was away are delivered after the reconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, type GridProcess, TestGrid } from '../helpers/grid.js';
import { client, tasks } from './helpers.js';

describe('reconnecting', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;
  let worker: GridProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
    worker = await grid.worker({ threads: 1 });
  });
  afterAll(() => grid.close());

  it('redials a restarted coordinator by its key and delivers what it computed meanwhile', async () => {
    await worker.waitFor('coordinator-joined', (e) => e.coordinator === coord.key);
    // Units of ~150 ms: the worker is surely holding some when the coordinator goes.
    const { id } = await client(coord).submit({ kind: 'pi', params: { workUnits: 8, samplesPerUnit: 20_000_000, seed: 2 }, policy: { replication: 1, quorum: 1 } });
    await eventually(() => tasks(coord, id).some((t) => t.state === 'valid'), 30_000, 20);
    await coord.stop('SIGTERM');
    await worker.waitFor('coordinator-lost', (e) => e.coordinator === coord.key);
    // Down for a few seconds: Hyperswarm's own backoff would already be at 15 s by now.
    await worker.waitFor('coordinator-redial', (e) => (e.attempt as number) >= 2, 15_000);
    const restarted = await grid.coordinator({ dataDir: coord.dataDir });
    expect(restarted.key).toBe(coord.key);
    const upAt = Date.now();
    const rejoined = await worker.waitFor('coordinator-joined', (e) => e.coordinator === coord.key && Date.parse(e.time as string) >= upAt - 50, 30_000);
    console.log(`reconnected ${Date.parse(rejoined.time as string) - upAt} ms after the coordinator was back; ${rejoined.resent} result(s) resent`);
    expect(rejoined.resent as number).toBeGreaterThanOrEqual(1);
    const final = await client(restarted).wait(id, undefined, 100);
    expect(final.state).toBe('completed');
    // Nothing had to wait for a lease: every unit was done by its first and only task.
    expect(tasks(restarted, id).filter((t) => t.state !== 'valid')).toEqual([]);
  });
});
