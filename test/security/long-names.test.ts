/**
 * Unknown param and policy names get a "did you mean" from an edit distance, whose table is the
 * product of the two names' lengths: a 15 MB name in a 15 MB body was a 15 M × 12 table, 42 s of
 * the coordinator's thread and 2.4 GB, answered "Invalid array length". A name too long to be
 * near any known one is now not compared, and a message shows at most 64 characters of it. A real
 * coordinator process (heap capped at 512 MB), real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';

describe('long unknown names in a submission', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator({ env: { NODE_OPTIONS: '--max-old-space-size=512' } });
  }, 120_000);
  afterAll(() => grid.close());

  const post = async (body: unknown) => {
    const res = await fetch(`${coord.url}/v1/batches?dryRun=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${coord.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(90_000),
    });
    return { status: res.status, json: await res.json() as { code: string; message: string } };
  };

  it('are refused at once as unknown, the name cut to 64 characters, with the suggestion for a near miss unchanged', async () => {
    const long = 'k'.repeat(15_000_000);
    const params = await post({ kind: 'echo', params: { [long]: 1 } });
    expect(params.status).toBe(400);
    expect(params.json).toEqual({ code: 'GRID_ERR_INVALID_PARAMS', message: `invalid params for echo: unknown param ${'k'.repeat(64)}…; known: workUnits, payloadBytes` });
    const policy = await post({ kind: 'echo', policy: { [long]: 1 } });
    expect(policy.status).toBe(400);
    expect(policy.json.code).toBe('GRID_ERR_INVALID_POLICY');
    expect(policy.json.message.length).toBeLessThan(1000);
    const near = await post({ kind: 'echo', params: { workUnit: 1 } });
    expect(near.json.message).toBe('invalid params for echo: unknown param workUnit; did you mean workUnits?');
    expect(coord.running).toBe(true);
  }, 120_000);
});
