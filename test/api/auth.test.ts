/**
 * Submitters need a bearer token (created with `swarmgrid token create`, stored hashed); reading
 * is public unless `--private`; submissions are rate-limited per token. Real coordinator
 * processes, no workers.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { postJson, request, withDb } from './helpers.js';

const grid = new TestGrid();
let open: CoordinatorProcess;
let closed: CoordinatorProcess;

beforeAll(async () => {
  await grid.start();
  [open, closed] = await Promise.all([
    grid.coordinator({ args: ['--rate-limit', '3'] }),
    grid.coordinator({ args: ['--private'], grid: `${grid.grid}-private` }),
  ]);
});
afterAll(() => grid.close());

const batch = { kind: 'echo', inputs: [{ a: 1 }], policy: { replication: 1, quorum: 1 } };

function expect401(res: { status: number; json: any; headers: Headers }): void {
  expect(res.status).toBe(401);
  expect(res.json).toEqual({ code: 'GRID_ERR_UNAUTHORIZED', message: 'a valid bearer token is required' });
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
}

describe('tokens', () => {
  it('`swarmgrid token create` prints a token that is stored only as its SHA-256 hash', () => {
    const token = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', open.dataDir, '--name', 'alice'], { encoding: 'utf8' }).trim();
    expect(token).toMatch(/^sg_[A-Za-z0-9_-]{32}$/);
    const rows = withDb(open, (db) => db.prepare('SELECT hash, name FROM tokens').all()) as { hash: string; name: string }[];
    expect(rows).toContainEqual({ hash: createHash('sha256').update(token).digest('hex'), name: 'alice' });
    // Nowhere in the store's files in clear.
    for (const file of ['coordinator.sqlite', 'coordinator.sqlite-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(open.dataDir, file));
      } catch {
        continue;
      }
      expect(bytes.includes(Buffer.from(token))).toBe(false);
    }
  });

  it('submitting without a token, with a wrong one or a malformed header → 401', async () => {
    expect401(await postJson(open, batch, null));
    expect401(await postJson(open, batch, 'sg_not-a-real-token'));
    expect401(await request(open, 'POST', '/v1/batches', { contentType: 'application/json', body: JSON.stringify(batch), token: null }));
    const basic = await fetch(`${open.url}/v1/batches`, { method: 'POST', headers: { authorization: `Basic ${open.token}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    expect(basic.status).toBe(401);
    // A token from another coordinator's store is no token here.
    expect401(await postJson(open, batch, closed.token));
  });

  it('cancelling needs a token too', async () => {
    const { json } = await postJson(open, { ...batch, inputs: [{ a: 2 }] });
    expect401(await request(open, 'DELETE', `/v1/batches/${json.id}`));
    expect401(await request(open, 'DELETE', `/v1/batches/${json.id}`, { token: 'sg_wrong' }));
  });

  it('a token created while the coordinator runs works at once', async () => {
    const token = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', closed.dataDir], { encoding: 'utf8' }).trim();
    expect((await request(closed, 'GET', '/v1/batches', { token })).status).toBe(200);
  });

  it('`swarmgrid token list` names tokens by id; `token revoke ID` stops one at once on a running coordinator', async () => {
    const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, 'token', ...args, '--data', closed.dataDir], { encoding: 'utf8' });
    const token = cli('create', '--name', 'bob').trim();
    expect((await request(closed, 'GET', '/v1/batches', { token })).status).toBe(200);
    const listed = cli('list', '--json').trim().split('\n').map((l) => JSON.parse(l) as { id: string; name: string; createdAt: string });
    const id = createHash('sha256').update(token).digest('hex').slice(0, 12);
    expect(listed).toContainEqual({ id, name: 'bob', role: 'submitter', createdAt: expect.any(String) });
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(cli('revoke', id.slice(0, 8))).toMatch(new RegExp(`^revoked ${id} \\(bob, created `));
    expect401(await request(closed, 'GET', '/v1/batches', { token }));
    expect((await request(closed, 'GET', '/v1/batches', { token: closed.token })).status).toBe(200); // the others still work
    // An unknown id, a token never issued and a missing id are refused with a code, exit status 2.
    for (const [arg, code] of [[id, 'GRID_ERR_TOKEN_NOT_FOUND'], ['sg_never-issued', 'GRID_ERR_TOKEN_NOT_FOUND'], ['ABCD', 'at least 8 hex digits'], ['abc', 'GRID_ERR_INVALID_OPTION']] as const) {
      let failed: { status: number; stderr: string } | undefined;
      try {
        cli('revoke', ...(arg === 'abc' ? [] : [arg]));
      } catch (err) {
        failed = err as { status: number; stderr: string };
      }
      expect(failed?.status).toBe(2);
      expect(String(failed?.stderr)).toContain(code);
    }
  });
});

describe('reading', () => {
  it('is public by default', async () => {
    for (const path of ['/v1/batches', '/v1/workers', '/v1/kinds', '/healthz', '/metrics', '/docs/json']) {
      expect((await request(open, 'GET', path)).status).toBe(200);
    }
  });

  it('needs a token on a --private coordinator, except /healthz and /docs', async () => {
    const { json } = await postJson(closed, batch);
    for (const path of ['/v1/batches', `/v1/batches/${json.id}`, `/v1/batches/${json.id}/results`, `/v1/batches/${json.id}/artifact`, '/v1/workers', '/v1/kinds', '/metrics']) {
      expect401(await request(closed, 'GET', path));
      expect((await request(closed, 'GET', path, { token: closed.token })).status).not.toBe(401);
    }
    expect((await request(closed, 'GET', '/healthz')).status).toBe(200);
    expect((await request(closed, 'GET', '/docs/json')).status).toBe(200);
  });
});

describe('rate limiting', () => {
  it('limits submissions per token (429 with Retry-After); another token is not affected', async () => {
    const other = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', open.dataDir, '--name', 'bob'], { encoding: 'utf8' }).trim();
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const res = await postJson(open, batch, other);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    // --rate-limit 3: a burst of 3, refilled at 3 a minute.
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(limited!.json).toMatchObject({ code: 'GRID_ERR_RATE_LIMITED', message: expect.stringMatching(/retry in \d+ s/) });
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited!.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    // Reads are never rate limited, and the limit is per token.
    expect((await request(open, 'GET', '/v1/batches', { token: other })).status).toBe(200);
    const fresh = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', open.dataDir, '--name', 'carol'], { encoding: 'utf8' }).trim();
    expect((await postJson(open, batch, fresh)).status).toBe(201);
  });
});
