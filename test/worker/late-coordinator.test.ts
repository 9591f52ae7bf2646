/**
 * Volunteers usually start before their coordinator (issue 12, case 13). A worker that joined the
 * grid topic before any coordinator announced used to look again only on Hyperswarm's own refresh,
 * 10-12 minutes later; it now looks again every few seconds until a coordinator welcomes it.
 * Real local DHT, real worker and coordinator processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { TestGrid } from '../helpers/grid.js';

let grid: TestGrid | undefined;
afterEach(async () => {
  await grid?.close();
  grid = undefined;
});

describe('a worker started before its coordinator', () => {
  it('two workers started 12 s early both join within 10 s of the coordinator being up, and work', async () => {
    grid = await new TestGrid().start();
    const workers = [await grid.worker(), await grid.worker()];
    await new Promise((r) => setTimeout(r, 12_000));
    const coord = await grid.coordinator();
    const up = Date.now();
    const joined = await Promise.all(workers.map(async (w) => {
      await w.waitFor('coordinator-joined', (e) => e.coordinator === coord.key, 10_000);
      return Date.now() - up;
    }));
    console.log(`early workers found the late coordinator ${joined.join(' ms and ')} ms after it was up`);
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 20, samplesPerUnit: 10_000, seed: 1 } });
    const final = await client.wait(id, undefined, 200);
    expect(final.state).toBe('completed');
    expect(final.counts).toMatchObject({ validated: 20, failed: 0 });
  }, 120_000);

  it('a worker whose only coordinator went away for good finds a new one on the grid', async () => {
    grid = await new TestGrid().start();
    const first = await grid.coordinator();
    const worker = await grid.worker();
    await worker.waitFor('coordinator-joined', (e) => e.coordinator === first.key, 30_000);
    await first.stop('SIGKILL');
    await worker.waitFor('coordinator-lost', (e) => e.coordinator === first.key, 30_000);
    // Past the short redials of the lost key: only a fresh lookup of the topic finds the new one.
    await new Promise((r) => setTimeout(r, 12_000));
    const second = await grid.coordinator();
    const up = Date.now();
    await worker.waitFor('coordinator-joined', (e) => e.coordinator === second.key, 10_000);
    console.log(`a worker that lost its coordinator found a new one ${Date.now() - up} ms after it was up`);
    expect(second.key).not.toBe(first.key);
  }, 120_000);
});
