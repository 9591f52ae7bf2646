/**
 * Idempotent submissions and clients that ride out a restart (issue 12, case 10): the
 * Idempotency-Key is stored with its batch, durably; GridClient and the CLI send one key per
 * logical submission on every try, do not give up while the coordinator is still storing, and
 * keep going (submit and --wait) while it restarts. A real coordinator process on a fixed port,
 * restarted on the same --data; real workers; the CLI as a child process.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { CLI, type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { request, withDb } from './helpers.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;
let port: number;
let dataDir: string;

/** A port nobody listens on now (the coordinator takes it, and takes it again after a restart). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

let token: string | undefined;

async function startCoordinator(): Promise<CoordinatorProcess> {
  coord = await grid.coordinator({ dataDir, args: ['--http-port', String(port), '--upload-idle-timeout', '60'] });
  // Keys are per token: every start makes a new one, the test keeps using the first.
  token ??= coord.token;
  coord.token = token;
  return coord;
}

async function restart(downMs = 0, between?: () => Promise<void>): Promise<void> {
  await coord.stop('SIGTERM');
  await between?.();
  await new Promise((r) => setTimeout(r, downMs));
  await startCoordinator();
}

const batchCount = () => withDb(coord, (db) => (db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n);

const post = (body: string, key: string | undefined, contentType = 'application/json') => fetch(`${coord.url}/v1/batches`, {
  method: 'POST',
  headers: { authorization: `Bearer ${coord.token}`, 'content-type': contentType, ...(key && { 'idempotency-key': key }) },
  body,
  signal: AbortSignal.timeout(60_000),
}).then(async (res) => ({ status: res.status, replayed: res.headers.get('idempotent-replayed'), json: await res.json() as any }));

beforeAll(async () => {
  await grid.start();
  port = await freePort();
  dataDir = grid.tempDir('swarmgrid-idem-');
  await startCoordinator();
});
afterAll(() => grid.close());

describe('Idempotency-Key', () => {
  const spec = JSON.stringify({ kind: 'pi', params: { workUnits: 3, samplesPerUnit: 1000 } });

  it('a retry with the same key and body gets the same batch; another body gets 422; the key is per token', async () => {
    const before = batchCount();
    const first = await post(spec, 'key-json-1');
    const again = await post(spec, 'key-json-1');
    expect(first.status).toBe(201);
    expect({ status: again.status, id: again.json.id, replayed: again.replayed }).toEqual({ status: 201, id: first.json.id, replayed: 'true' });
    const other = await post(JSON.stringify({ kind: 'pi', params: { workUnits: 4, samplesPerUnit: 1000 } }), 'key-json-1');
    expect({ status: other.status, code: other.json.code }).toEqual({ status: 422, code: 'GRID_ERR_IDEMPOTENCY_MISMATCH' });
    expect(batchCount()).toBe(before + 1);
    // Without a key, every POST is a new batch, as before.
    await post(spec, undefined);
    await post(spec, undefined);
    expect(batchCount()).toBe(before + 3);
  });

  it('NDJSON: the same key and body gets the same batch, another body 422', async () => {
    const body = '{"kind":"echo","policy":{"replication":1,"quorum":1}}\n{"a":1}\n{"a":2}\n';
    const first = await post(body, 'key-nd-1', 'application/x-ndjson');
    const again = await post(body, 'key-nd-1', 'application/x-ndjson');
    expect(first.status).toBe(201);
    expect({ id: again.json.id, replayed: again.replayed, total: again.json.total }).toEqual({ id: first.json.id, replayed: 'true', total: 2 });
    const other = await post(body + '{"a":3}\n', 'key-nd-1', 'application/x-ndjson');
    expect(other.json.code).toBe('GRID_ERR_IDEMPOTENCY_MISMATCH');
  });

  it('a try while the first is still streaming in gets 409 GRID_ERR_SUBMISSION_IN_PROGRESS; once that one is gone, the key is free', async () => {
    const { hostname } = new URL(coord.url);
    const socket = connect(port, hostname);
    socket.on('error', () => {});
    socket.write(`POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${coord.token}\r\nContent-Type: application/x-ndjson\r\nIdempotency-Key: key-slow\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const head = '{"kind":"echo"}\n{"a":1}\n';
    socket.write(`${Buffer.byteLength(head).toString(16)}\r\n${head}\r\n`);
    await eventually(() => withDb(coord, (db) => db.prepare(`SELECT 1 FROM batches WHERE state = 'loading'`).get()), 30_000);
    const during = await post('{"kind":"echo"}\n{"a":1}\n', 'key-slow', 'application/x-ndjson');
    expect({ status: during.status, code: during.json.code }).toEqual({ status: 409, code: 'GRID_ERR_SUBMISSION_IN_PROGRESS' });
    socket.destroy(); // the first try's client dies: its batch is deleted, with the key
    await eventually(() => withDb(coord, (db) => !db.prepare(`SELECT 1 FROM batches WHERE state = 'loading'`).get()), 30_000);
    const retry = await post('{"kind":"echo"}\n{"a":1}\n', 'key-slow', 'application/x-ndjson');
    expect({ status: retry.status, replayed: retry.replayed }).toEqual({ status: 201, replayed: null });
  });

  it('is stored durably: after a restart the same key still gets the same batch', async () => {
    const first = await post(spec, 'key-durable');
    await restart();
    const again = await post(spec, 'key-durable');
    expect({ id: again.json.id, replayed: again.replayed }).toEqual({ id: first.json.id, replayed: 'true' });
  });
});

describe('GridClient', () => {
  it('does not give up at its request timeout while the coordinator stores a big batch, and makes one batch', async () => {
    const client = new GridClient({ url: coord.url, token: coord.token, timeoutMs: 1000 });
    const before = batchCount();
    const started = Date.now();
    const submitted = await client.submit({ kind: 'pi', params: { workUnits: 400_000, samplesPerUnit: 1000 } });
    console.log(`400,000-unit submission answered after ${((Date.now() - started) / 1000).toFixed(1)} s (client read timeout 1 s)`);
    expect(submitted.total).toBe(400_000);
    expect(batchCount()).toBe(before + 1);
    await new GridClient({ url: coord.url, token: coord.token }).cancel(submitted.id);
  }, 180_000);

  it('a submission made while the coordinator is down goes through once it is back, once', async () => {
    const before = batchCount();
    await coord.stop('SIGTERM');
    const client = new GridClient({ url: `http://127.0.0.1:${port}`, token: coord.token });
    const submitting = client.submit({ kind: 'pi', params: { workUnits: 2, samplesPerUnit: 1000 } });
    await new Promise((r) => setTimeout(r, 2000));
    await startCoordinator();
    const submitted = await submitting;
    expect(submitted.total).toBe(2);
    expect(batchCount()).toBe(before + 1);
  }, 120_000);
});

describe('swarmgrid submit --wait', () => {
  it('rides out a coordinator restart and exits 0 when the batch completes', async () => {
    const file = join(grid.tempDir('swarmgrid-spec-'), 'pi.json');
    writeFileSync(file, JSON.stringify({ kind: 'pi', params: { workUnits: 4, samplesPerUnit: 1000 }, policy: { replication: 1, quorum: 1 } }));
    const before = batchCount();
    const child = spawn(process.execPath, [CLI, 'submit', file, '--wait', '--interval', '200', '--url', `http://127.0.0.1:${port}`, '--token', coord.token], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // No worker yet: the batch waits, and the CLI with it. Then the coordinator goes away for 3 s.
      await eventually(() => /submitted batch/.test(out), 30_000);
      await restart(3000);
      const worker = await grid.worker();
      await worker.waitFor('coordinator-joined', () => true, 60_000);
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 90 s'), 90_000))]);
      expect({ code, err }).toMatchObject({ code: 0 });
      expect(err).toMatch(/GRID_ERR_UNREACHABLE.*still waiting for batch/);
      expect(out).toMatch(/completed 4\/4/);
      expect(batchCount()).toBe(before + 1);
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});
