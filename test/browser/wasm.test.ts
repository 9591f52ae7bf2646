/**
 * WASM kinds in the browser: the same C program (test/fixtures/wasm/floaty.c: sums of sin, cos,
 * exp, sqrt, log1p, pow printed with %.17g, and a NaN) computed by a node worker and by Chromium's
 * volunteer page, every work unit replicated on both and compared by digest (exact comparator):
 * byte-identical outputs, under the page's CSP ('wasm-unsafe-eval' and nothing more).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { batchTasks, hasChromium, INSTALL_HINT, launchChromium, openVolunteer, workUnitStates } from './chromium.js';
import { addWasmKind } from '../helpers/wasm-kinds.js';

if (!hasChromium) console.warn(INSTALL_HINT);

describe.skipIf(!hasChromium)('WASM kinds in Chromium', () => {
  let browser: Browser;
  let grid: TestGrid;
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    browser = await launchChromium();
    grid = await new TestGrid().start();
    coord = await grid.coordinator();
  }, 120_000);
  afterAll(async () => {
    for (const context of browser?.contexts() ?? []) await context.close();
    await browser?.close();
    await grid?.close();
  });

  it('a float-heavy C program gives byte-identical outputs on a node worker and in the browser', async () => {
    addWasmKind(coord.dataDir, 'floaty.wasm', {
      name: 'floaty', version: '1.0.0', description: 'sums of libm functions',
      params: [{ name: 'n', type: 'integer', description: 'terms' }],
      units: { type: 'sweep', sweep: ['n'] },
    });
    addWasmKind(coord.dataDir, 'clock.wasm', { name: 'clocks', version: '1.0.0', description: 'reads the clocks and random_get' });
    await grid.worker({ threads: 1 }); // no --trust
    await coord.waitFor('worker-joined', (e) => e.runtime === 'node');
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id) && e.runtime === 'browser');
    const client = new GridClient({ url: coord.url, token: coord.token });

    const { id } = await client.submit({ kind: 'floaty', params: { n: [10, 1000, 12345, 54321, 100000] }, policy: { replication: 2, quorum: 2 } });
    const status = await client.wait(id, undefined, 200);
    expect(status.state).toBe('completed');
    const units = workUnitStates(coord.dataDir, id);
    expect(units).toHaveLength(5);
    expect(units.every((u) => u.state === 'validated' && u.agreed === 2)).toBe(true);
    const tasks = batchTasks(coord.dataDir, id).filter((t) => t.state === 'valid');
    for (let seq = 0; seq < 5; seq++) expect(new Set(tasks.filter((t) => t.seq === seq).map((t) => t.runtime))).toEqual(new Set(['node', 'browser']));
    for await (const line of client.results(id, -1)) {
      const out = line.output as Record<string, unknown>;
      expect(out).toMatchObject({ nan: 'NaN', inf: 'Infinity', ninf: '-Infinity' });
      if (line.seq === 4) console.log(`floaty n=100000, agreed by node and Chromium: ${JSON.stringify(out)}`);
    }

    // Clocks and random bytes: fixed per unit, so the two runtimes agree here too.
    const clocks = await client.submit({ kind: 'clocks', inputs: [{ unit: 1 }, { unit: 2 }], policy: { replication: 2, quorum: 2 } });
    expect((await client.wait(clocks.id, undefined, 200)).state).toBe('completed');
    expect(workUnitStates(coord.dataDir, clocks.id).every((u) => u.state === 'validated' && u.agreed === 2)).toBe(true);
    expect(vol.errors).toEqual([]);
  }, 240_000);
});
