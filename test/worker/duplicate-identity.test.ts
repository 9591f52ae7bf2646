/**
 * Two workers started from one copied `--data` share one identity (issue 12, case 14). They used
 * to knock each other off ~30 times a minute ("Duplicate connection"), forever, with no error
 * shown. Now the newcomer is refused with GRID_ERR_DUPLICATE_IDENTITY, says so and exits (78);
 * the incumbent keeps working. Real local DHT, coordinator and worker processes.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { TestGrid } from '../helpers/grid.js';

let grid: TestGrid | undefined;
afterEach(async () => {
  await grid?.close();
  grid = undefined;
});

describe('two workers with one identity (a copied --data)', () => {
  it('the newcomer gets GRID_ERR_DUPLICATE_IDENTITY and exits saying so; the first keeps working without flapping', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const data = grid.tempDir('swarmgrid-worker-');
    const first = await grid.worker({ args: ['--data', data] });
    await first.waitFor('coordinator-joined', (e) => e.coordinator === coord.key, 30_000);
    const copy = join(grid.tempDir('swarmgrid-worker-copy-'), 'data');
    cpSync(data, copy, { recursive: true });

    const second = await grid.worker({ args: ['--data', copy] });
    expect((await second.waitFor('worker-started')).key).toBe((await first.waitFor('worker-started')).key);
    const started = Date.now();
    const refused = await second.waitFor('duplicate-identity', () => true, 60_000);
    expect(refused.hint).toMatch(/--data/);
    expect(second.events.some((e) => e.event === 'coordinator-error' && e.code === 'GRID_ERR_DUPLICATE_IDENTITY')).toBe(true);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(code).toBe(78);
    expect(second.stderr.join('')).toMatch(/GRID_ERR_DUPLICATE_IDENTITY: .*own --data/);
    console.log(`duplicate identity: newcomer refused ${Date.now() - started} ms after it started; the first worker lost its connection ${first.events.filter((e) => e.event === 'coordinator-lost').length} time(s) meanwhile`);

    // Settled: the first worker stays connected and computes.
    await first.waitFor('coordinator-joined', () => true, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const lostBefore = first.events.filter((e) => e.event === 'coordinator-lost').length;
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 20, samplesPerUnit: 10_000, seed: 2 }, policy: { replication: 1, quorum: 1 } });
    const final = await client.wait(id, undefined, 200);
    expect(final.state).toBe('completed');
    expect(final.counts).toMatchObject({ validated: 20, failed: 0 });
    await new Promise((r) => setTimeout(r, 8000));
    expect(first.events.filter((e) => e.event === 'coordinator-lost').length).toBe(lostBefore);
    expect(first.running).toBe(true);
    expect(coord.events.some((e) => e.event === 'duplicate-identity')).toBe(true);
  }, 180_000);

  it('a worker restarted on its own --data (the old process dead) is welcomed, not refused', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const data = grid.tempDir('swarmgrid-worker-');
    const before = await grid.worker({ args: ['--data', data] });
    await before.waitFor('coordinator-joined', (e) => e.coordinator === coord.key, 30_000);
    await before.stop('SIGKILL');
    const after = await grid.worker({ args: ['--data', data] });
    await after.waitFor('coordinator-joined', (e) => e.coordinator === coord.key, 30_000);
    await new Promise((r) => setTimeout(r, 8000));
    expect(after.running).toBe(true);
    expect(after.events.some((e) => e.event === 'duplicate-identity')).toBe(false);
    expect(coord.events.some((e) => e.event === 'duplicate-identity')).toBe(false);
  }, 120_000);
});
