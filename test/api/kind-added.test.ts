/**
 * A kind added with `swarmgrid kind add` while the coordinator runs is listed by `GET /v1/kinds`
 * (and so `swarmgrid kinds`) at once: the walkthrough adds the Ising kind, then looks at its params
 * before any batch names it. Real coordinator process, the real CLI, real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { tamperStore } from '../helpers/sqlite.js';
import { addWasmKind } from '../helpers/wasm-kinds.js';
import { request } from './helpers.js';

const SWEEP = {
  name: 'late-kind', version: '1.0.0', description: 'added after start',
  params: [{ name: 'n', type: 'integer', default: [1, 2], description: 'terms' }],
  units: { type: 'sweep', sweep: ['n'] },
};

describe('GET /v1/kinds after kind add', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
  }, 120_000);
  afterAll(() => grid.close());

  it('lists a kind added since start, with its params, before any batch names it; and a replaced version', async () => {
    const names = async () => ((await request(coord, 'GET', '/v1/kinds')).json.kinds as { name: string; version: string; params: unknown[] }[]);
    expect((await names()).map((k) => k.name)).not.toContain('late-kind');
    addWasmKind(coord.dataDir, 'floaty.wasm', SWEEP);
    const listed = (await names()).find((k) => k.name === 'late-kind');
    expect(listed).toMatchObject({ version: '1.0.0', params: [{ name: 'n', type: 'integer', default: [1, 2] }] });
    addWasmKind(coord.dataDir, 'floaty.wasm', { ...SWEEP, version: '1.1.0' });
    expect((await names()).find((k) => k.name === 'late-kind')?.version).toBe('1.1.0');
  }, 60_000);

  it('tries a stored bundle that fails to load once, not again on every GET /v1/kinds', async () => {
    addWasmKind(coord.dataDir, 'floaty.wasm', { ...SWEEP, name: 'broken-kind' });
    // Bytes that no longer match their hash (a damaged store): the load fails, and would again.
    tamperStore(coord.dataDir, `UPDATE kinds SET code = zeroblob(64) WHERE name = 'broken-kind'`);
    const failures = () => coord.events.filter((e) => e.event === 'kind-load-failed' && e.kind === 'broken-kind').length;
    for (let i = 0; i < 4; i++) expect((await request(coord, 'GET', '/v1/kinds')).status).toBe(200);
    expect(failures()).toBe(1);
  }, 60_000);
});
