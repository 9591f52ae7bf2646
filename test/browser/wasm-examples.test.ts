/**
 * The C examples of examples/wasm/ in the browser: every work unit of a small Ising sweep and of
 * the n-body sweep is computed once by a node worker and once by Chromium's volunteer page, and
 * the exact comparator (digests) makes each canonical only when the two agree byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';
import { CLI, type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { batchTasks, hasChromium, INSTALL_HINT, launchChromium, openVolunteer, workUnitStates } from './chromium.js';

if (!hasChromium) console.warn(INSTALL_HINT);

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'wasm');

describe.skipIf(!hasChromium)('the WASM examples in Chromium', () => {
  let browser: Browser;
  let grid: TestGrid;
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    browser = await launchChromium();
    grid = await new TestGrid().start();
    coord = await grid.coordinator();
    for (const name of ['ising', 'nbody']) {
      execFileSync(process.execPath, [CLI, 'kind', 'add', join(EXAMPLES, name, `${name}.wasm`), '--manifest', join(EXAMPLES, name, 'kind.json'), '--data', coord.dataDir], { encoding: 'utf8' });
    }
  }, 120_000);
  afterAll(async () => {
    for (const context of browser?.contexts() ?? []) await context.close();
    await browser?.close();
    await grid?.close();
  });

  it('ising and nbody: a node worker and the browser give byte-identical outputs for every unit', async () => {
    await grid.worker({ threads: 1 }); // no --trust
    await coord.waitFor('worker-joined', (e) => e.runtime === 'node');
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id) && e.runtime === 'browser');
    const client = new GridClient({ url: coord.url, token: coord.token });

    const batches = [
      { kind: 'ising', params: { T: [1.8, 2.269, 3], L: 16, therm: 200, sweeps: 2000, seeds: 2 }, units: 6 },
      { kind: 'nbody', params: { scheme: ['kd', 'kdk'], dt: [0.01, 0.02], years: 100, samples: 100 }, units: 4 },
    ];
    for (const b of batches) {
      const { id } = await client.submit({ kind: b.kind, params: b.params, policy: { replication: 2, quorum: 2 } });
      const status = await client.wait(id, undefined, 200);
      expect(status.state).toBe('completed');
      const units = workUnitStates(coord.dataDir, id);
      expect(units).toHaveLength(b.units);
      expect(units.every((u) => u.state === 'validated' && u.agreed === 2)).toBe(true);
      const tasks = batchTasks(coord.dataDir, id).filter((t) => t.state === 'valid');
      for (let seq = 0; seq < b.units; seq++) expect(new Set(tasks.filter((t) => t.seq === seq).map((t) => t.runtime))).toEqual(new Set(['node', 'browser']));
      console.log(`${b.kind}: ${b.units} units, each agreed by a node worker and Chromium; ${status.summary ?? ''}`);
    }
    expect(vol.errors).toEqual([]);
  }, 300_000);
});
