/**
 * Tokens have roles, and a token may do what its role allows and no more: a submitter cancels
 * only its own batches, an operator any, a volunteer join key neither submits nor cancels (nor
 * reads a --private coordinator). Real coordinators in this process, no workers (so batches stay
 * running); outcomes read from the coordinator's own store. Also: a version-1 store upgrades with
 * its tokens as operators, and `swarmgrid token create --role`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, listTokens, verifyToken } from '../../coordinator/http/auth.js';
import { SCHEMA, SCHEMA_VERSION } from '../../coordinator/store/schema.js';
import { SqliteStore } from '../../coordinator/store/index.js';
import { CLI } from '../helpers/grid.js';
import { readStore } from '../helpers/sqlite.js';
import { type LocalCoordinator, request, startCoordinator, tokenId } from './helpers.js';

const batch = { kind: 'echo', inputs: [{ a: 1 }, { a: 2 }], policy: { replication: 1, quorum: 1 } };

describe('cancelling and submitting by role', () => {
  let grid: LocalCoordinator;
  let alice: string;
  let bob: string;
  let operator: string;
  let volunteer: string;

  beforeAll(async () => {
    grid = await startCoordinator();
    alice = grid.token('submitter', 'alice');
    bob = grid.token('submitter', 'alice'); // the same name on purpose: owners are token ids
    operator = grid.token('operator', 'ops');
    volunteer = grid.token('volunteer', 'join-key');
  });
  afterAll(() => grid?.close());

  const submit = async (token: string) => {
    const res = await request(grid.url, 'POST', '/v1/batches', { token, body: batch });
    expect(res.status).toBe(201);
    return res.json.id as string;
  };

  it('only the owning submitter token cancels a batch: another gets 403 GRID_ERR_FORBIDDEN and the batch keeps running', async () => {
    const id = await submit(alice);
    const res = await request(grid.url, 'DELETE', `/v1/batches/${id}`, { token: bob });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ code: 'GRID_ERR_FORBIDDEN', message: expect.stringContaining(`cancel batch ${id}`) });
    expect(grid.coordinator.store.getBatch(id)!.state).toBe('running');
    const status = await request(grid.url, 'GET', `/v1/batches/${id}`);
    expect(status.json).toMatchObject({ state: 'running', owner: tokenId(alice), counts: { cancelled: 0 } });
    // The owner can; an unknown batch stays a 404 (the role check does not hide it).
    const own = await request(grid.url, 'DELETE', `/v1/batches/${id}`, { token: alice });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ id, state: 'cancelled' });
    expect(grid.coordinator.store.getBatch(id)!.state).toBe('cancelled');
    const unknown = await request(grid.url, 'DELETE', '/v1/batches/0000000000000000', { token: alice });
    expect(unknown.json.code).toBe('GRID_ERR_BATCH_NOT_FOUND');
  });

  it("an operator's token cancels anyone's batch", async () => {
    const id = await submit(bob);
    const res = await request(grid.url, 'DELETE', `/v1/batches/${id}`, { token: operator });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, state: 'cancelled', owner: tokenId(bob) });
    expect(grid.coordinator.store.getBatch(id)!.state).toBe('cancelled');
  });

  it('a volunteer token can neither submit nor cancel (403), and submits nothing', async () => {
    const before = grid.coordinator.store.listBatches(1000).length;
    const submitted = await request(grid.url, 'POST', '/v1/batches', { token: volunteer, body: batch });
    expect(submitted.status).toBe(403);
    expect(submitted.json.code).toBe('GRID_ERR_FORBIDDEN');
    expect(grid.coordinator.store.listBatches(1000).length).toBe(before);
    const id = await submit(alice);
    const cancelled = await request(grid.url, 'DELETE', `/v1/batches/${id}`, { token: volunteer });
    expect(cancelled.status).toBe(403);
    expect(cancelled.json.code).toBe('GRID_ERR_FORBIDDEN');
    expect(grid.coordinator.store.getBatch(id)!.state).toBe('running');
  });
});

describe('reading a --private coordinator by role', () => {
  let grid: LocalCoordinator;

  beforeAll(async () => {
    grid = await startCoordinator({ private: true });
  });
  afterAll(() => grid?.close());

  it('a volunteer token may not read (403); submitter and operator tokens may; no token is 401', async () => {
    for (const path of ['/v1/batches', '/v1/workers', '/v1/kinds', '/metrics']) {
      const res = await request(grid.url, 'GET', path, { token: grid.token('volunteer') });
      expect(res.status, path).toBe(403);
      expect(res.json.code, path).toBe('GRID_ERR_FORBIDDEN');
    }
    expect((await request(grid.url, 'GET', '/v1/batches', { token: grid.token('submitter') })).status).toBe(200);
    expect((await request(grid.url, 'GET', '/v1/batches', { token: grid.token('operator') })).status).toBe(200);
    expect((await request(grid.url, 'GET', '/v1/batches')).status).toBe(401);
  });
});

describe('token roles in the store and the CLI', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-security-store-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a version-1 store is upgraded: its tokens become operators, its batches are owned by token id', () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'coordinator.sqlite'));
    // Version 1: today's schema with the tokens table as it was, without roles (and batches
    // without the provisional count of version 3).
    const v1 = SCHEMA.replace(/CREATE TABLE IF NOT EXISTS tokens \([^;]*\);/, 'CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);')
      .replace(/\n\s*provisional\s+INTEGER NOT NULL DEFAULT 0,\n\s*created_at/, '\n  created_at');
    expect(v1).not.toBe(SCHEMA);
    db.exec(v1);
    const old = 'sg_an-old-token';
    db.prepare('INSERT INTO tokens (hash, name, created_at) VALUES (?, ?, ?)').run(hashToken(old), 'ops', 1);
    db.prepare("INSERT INTO batches (id, kind, kind_version, policy, state, created_at, owner) VALUES ('b1', 'echo', '1.0.0', '{}', 'completed', 1, 'ops')").run();
    db.pragma('user_version = 1');
    db.close();

    const store = new SqliteStore({ dataDir: dir });
    try {
      expect(readStore(dir, (db) => db.pragma('user_version', { simple: true }))).toBe(SCHEMA_VERSION);
      expect(verifyToken(store, old)).toEqual({ id: tokenId(old), name: 'ops', role: 'operator' });
      expect(listTokens(store)).toEqual([{ id: tokenId(old), name: 'ops', role: 'operator', createdAt: new Date(1).toISOString() }]);
      expect(store.getBatch('b1')!.owner).toBe(tokenId(old));
    } finally {
      store.close();
    }
    // Opening it again changes nothing.
    const again = new SqliteStore({ dataDir: dir });
    expect(listTokens(again).map((t) => t.role)).toEqual(['operator']);
    again.close();
  });

  it('`swarmgrid token create --role` makes a token of that role; list shows it; a bad role is a usage error', () => {
    const dir = tempDir();
    const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, 'token', ...args, '--data', dir, ...(args[0] === 'create' ? ['--init'] : [])], { encoding: 'utf8' });
    const plain = cli('create').trim();
    const join = cli('create', '--role', 'volunteer', '--name', 'lab').trim();
    const listed = cli('list', '--json').trim().split('\n').map((l) => JSON.parse(l) as { id: string; role: string; name: string });
    expect(listed).toEqual(expect.arrayContaining([
      expect.objectContaining({ id: tokenId(plain), role: 'submitter', name: 'default' }),
      expect.objectContaining({ id: tokenId(join), role: 'volunteer', name: 'lab' }),
    ]));
    expect(cli('list')).toMatch(new RegExp(`${tokenId(join)}\\s+\\S+\\s+volunteer\\s+lab`));
    const bad = spawnSync(process.execPath, [CLI, 'token', 'create', '--role', 'admin', '--data', dir], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/GRID_ERR_INVALID_OPTION: --role must be one of submitter, operator, volunteer/);
  });
});
