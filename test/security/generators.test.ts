/**
 * A generator runs on the coordinator's one thread, from params a submitter chooses: a request of
 * a few bytes must not buy unbounded coordinator time, memory or disk, through a dry run or a
 * submission. A real coordinator process (its heap capped at 512 MB, so that a generator that
 * holds what it makes would kill it rather than this machine), real HTTP; after each refusal the
 * coordinator still answers and stored nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { addWasmKind } from '../helpers/wasm-kinds.js';
import { request } from '../api/helpers.js';

/** A sweep over one number axis, as the Ising example's. */
const SWEEP = {
  name: 'sweepy', version: '1.0.0', description: 'a sweep',
  params: [{ name: 'x', type: 'number', default: { from: 0, to: 1, steps: 3 }, description: 'an axis' }],
  units: { type: 'sweep', sweep: ['x'] },
};
/** A JS generator as a scientist might write one: honest, and endless for a step of 0. */
const GENERATE = `export default function* generate(p) {
  if (p.mode === 'spin') { let x = 0; while (x < 1) x += p.step; }
  for (let x = 0; x < 1; x += p.step) yield { x };
}
`;
const LOOPY = {
  name: 'loopy', version: '1.0.0', description: 'a JS generator',
  params: [
    { name: 'mode', type: 'string', default: 'yield', description: 'spin: loop before the first unit' },
    { name: 'step', type: 'number', default: 0.25, description: 'x step' },
  ],
  units: { type: 'module', module: 'generate.mjs' },
};

describe('generators within bounds (dry runs and submissions)', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator({ env: { NODE_OPTIONS: '--max-old-space-size=512' } });
    addWasmKind(coord.dataDir, 'floaty.wasm', SWEEP);
    writeFileSync(join(coord.dataDir, 'generate.mjs'), GENERATE);
    addWasmKind(coord.dataDir, 'floaty.wasm', LOOPY);
  }, 120_000);
  afterAll(() => grid.close());

  // Its own fetch, not api/helpers' request: a loaded machine may take longer than its 30 s to
  // generate the 256 MiB that the last case asks for.
  const post = async (body: unknown, dryRun: boolean) => {
    const res = await fetch(`${coord.url}/v1/batches${dryRun ? '?dryRun=true' : ''}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${coord.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(150_000),
    });
    return { status: res.status, json: await res.json() as any };
  };
  /** The coordinator still serves, and holds no batch. */
  const healthy = async () => {
    const list = await request(coord, 'GET', '/v1/batches');
    expect(list.status).toBe(200);
    expect(list.json.batches).toEqual([]);
    expect(coord.running).toBe(true);
  };

  it('refuses a sweep axis of 10^12 steps before making it (was: an array of 10^12 numbers, then out of memory)', async () => {
    for (const dryRun of [true, false]) {
      const res = await post({ kind: 'sweepy', params: { x: { from: 0, to: 1, steps: 1e12 } } }, dryRun);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ code: 'GRID_ERR_INVALID_PARAMS', message: expect.stringContaining('the sweep makes 1000000000000 work units, more than 10000000') });
    }
    await healthy();
  }, 90_000);

  it('bounds what a dry run generates: 422 GRID_ERR_DRY_RUN_LIMIT past 100,000 units or 64 MiB (was: 76 s of the thread for 10 million, out of memory for big inputs)', async () => {
    const many = await post({ kind: 'sweepy', params: { x: { from: 0, to: 1, steps: 5_000_000 } } }, true);
    expect(many.status).toBe(422);
    expect(many.json).toEqual({ code: 'GRID_ERR_DRY_RUN_LIMIT', message: expect.stringMatching(/at most 100,000 work units or 64 MiB of inputs .* sweepy/) });
    // 5000 echo units of 2 MB each: 10 GB of inputs from a request of 70 bytes.
    const big = await post({ kind: 'echo', params: { workUnits: 5000, payloadBytes: 2_000_000 } }, true);
    expect(big.status).toBe(422);
    expect(big.json.code).toBe('GRID_ERR_DRY_RUN_LIMIT');
    // An endless generator (step 0): the dry run ends at the bound instead of never.
    const endless = await post({ kind: 'loopy', params: { step: 0 } }, true);
    expect(endless.status).toBe(422);
    expect(endless.json.code).toBe('GRID_ERR_DRY_RUN_LIMIT');
    // Within the bounds, the dry run answers as before.
    const small = await post({ kind: 'loopy', params: {} }, true);
    expect(small.status).toBe(200);
    expect(small.json).toMatchObject({ dryRun: true, total: 4, firstInput: { x: 0 } });
    await healthy();
  }, 90_000);

  it('stops a generator that loops without yielding: 422 GRID_ERR_GENERATOR_TIMEOUT, nothing stored (was: the coordinator frozen for good)', async () => {
    for (const dryRun of [true, false]) {
      const res = await post({ kind: 'loopy', params: { mode: 'spin', step: 0 } }, dryRun);
      expect(res.status).toBe(422);
      expect(res.json).toEqual({ code: 'GRID_ERR_GENERATOR_TIMEOUT', message: expect.stringContaining('the generator of loopy ran for 2 s') });
    }
    await healthy();
    // And the kind still works with params that end.
    const ok = await post({ kind: 'loopy', params: { step: 0.5 } }, false);
    expect(ok.status).toBe(201);
    expect(ok.json.total).toBe(2);
  }, 120_000);

  it('bounds what a stored batch generates too: 422 GRID_ERR_GENERATOR_LIMIT past 256 MiB of inputs, nothing kept', async () => {
    // 300 echo units of 1 MB: 300 MB generated, past the bound, from a request of 70 bytes.
    const res = await post({ kind: 'echo', params: { workUnits: 300, payloadBytes: 1_000_000 } }, false);
    expect(res.status).toBe(422);
    expect(res.json).toEqual({ code: 'GRID_ERR_GENERATOR_LIMIT', message: expect.stringContaining('10,000,000 work units or 256 MiB of inputs') });
    const list = await request(coord, 'GET', '/v1/batches');
    expect(list.json.batches.filter((b: { kind: string }) => b.kind === 'echo')).toEqual([]);
    expect(coord.running).toBe(true);
  }, 180_000);
});
