/**
 * Bad input is answered with a 4xx and a GRID_ERR_* code, and a rejected batch leaves nothing
 * in the store: one real coordinator process (with one worker, so that a batch rejected part-way
 * has had tasks dispatched that must vanish too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { clientOf, postJson, postNdjson, request, rowCounts, withDb } from './helpers.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  await grid.worker();
});
afterAll(() => grid.close());

function expectError(res: { status: number; json: any }, status: number, code: string, message?: RegExp): void {
  expect({ status: res.status, code: res.json?.code }).toEqual({ status, code });
  expect(typeof res.json.message).toBe('string');
  if (message) expect(res.json.message).toMatch(message);
}

const pi = (i: number) => JSON.stringify({ seed: i, samples: 10 });

describe('bad submissions', () => {
  it('invalid JSON → 400 GRID_ERR_INVALID_JSON', async () => {
    const res = await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/json', body: '{"kind": "pi",' });
    expectError(res, 400, 'GRID_ERR_INVALID_JSON');
    expectError(await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/json', body: '' }), 400, 'GRID_ERR_INVALID_JSON');
  });

  it('a content type other than JSON or NDJSON, or none → 415 GRID_ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv']) {
      const res = await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType, body: 'kind=pi' });
      expectError(res, 415, 'GRID_ERR_UNSUPPORTED_MEDIA_TYPE', new RegExp(contentType.replace('+', '\\+')));
    }
    expectError(await request(coord, 'POST', '/v1/batches', { token: coord.token, body: new TextEncoder().encode('{}') }), 415, 'GRID_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('an unknown job kind → 400 GRID_ERR_UNKNOWN_KIND (JSON and NDJSON)', async () => {
    expectError(await postJson(coord, { kind: 'nope', inputs: [{}] }), 400, 'GRID_ERR_UNKNOWN_KIND', /"nope"/);
    expectError(await postNdjson(coord, ['{"kind":"nope"}', '{}']), 400, 'GRID_ERR_UNKNOWN_KIND', /"nope"/);
  });

  it("inputs that fail the kind's own validation → 400 GRID_ERR_INVALID_INPUT naming the unit (and the NDJSON line)", async () => {
    const before = rowCounts(coord);
    expectError(await postJson(coord, { kind: 'pi', inputs: [{ seed: 1, samples: 10 }, { seed: 'x', samples: 10 }] }), 400, 'GRID_ERR_INVALID_INPUT', /^work unit 1: seed/);
    expectError(await postJson(coord, { kind: 'echo', inputs: [{ a: 1 }, [1, 2]] }), 400, 'GRID_ERR_INVALID_INPUT', /^work unit 1:/);
    // Line 1 is the header, a blank line still counts: unit 2 is on line 5.
    const res = await postNdjson(coord, ['{"kind":"pi"}', pi(0), '', pi(1), '{"seed":2,"samples":-5}', pi(3)]);
    expectError(res, 400, 'GRID_ERR_INVALID_INPUT', /^work unit 2 \(line 5\): samples/);
    expect(rowCounts(coord)).toEqual(before);
  });

  it('invalid params or policy → 400 GRID_ERR_INVALID_PARAMS / GRID_ERR_INVALID_POLICY', async () => {
    expectError(await postJson(coord, { kind: 'pi', params: { workUnits: -3 } }), 400, 'GRID_ERR_INVALID_PARAMS', /workUnits/);
    expectError(await postJson(coord, { kind: 'pi', params: { workUnits: 2 }, policy: { quorum: 0 } }), 400, 'GRID_ERR_INVALID_POLICY', /policy\.quorum/);
    expectError(await postJson(coord, { kind: 'pi', params: { workUnits: 2 }, policy: { replicas: 2 } }), 400, 'GRID_ERR_INVALID_POLICY', /policy\.replicas/);
    expectError(await postNdjson(coord, ['{"kind":"pi","policy":{"lease":-1}}', pi(0)]), 400, 'GRID_ERR_INVALID_POLICY', /policy\.lease/);
  });

  it('a misspelt param or policy field is refused with the name meant, not ignored; nothing is stored', async () => {
    const before = rowCounts(coord);
    expectError(await postJson(coord, { kind: 'primes', params: { from: 0, To: 1000 } }), 400, 'GRID_ERR_INVALID_PARAMS', /unknown param To; did you mean to\?/);
    expectError(await postJson(coord, { kind: 'pi', params: { workUnits: 20, samplesPerUnits: 1000 } }), 400, 'GRID_ERR_INVALID_PARAMS', /samplesPerUnits; did you mean samplesPerUnit\?/);
    expectError(await postJson(coord, { kind: 'pi', params: { workUnits: 2 }, policy: { qourum: 1 } }), 400, 'GRID_ERR_INVALID_POLICY', /policy\.qourum; did you mean quorum\?/);
    // Nothing close: the known names are listed instead.
    expectError(await postJson(coord, { kind: 'echo', params: { colour: 'red' } }), 400, 'GRID_ERR_INVALID_PARAMS', /unknown param colour; known: workUnits, payloadBytes/);
    expect(rowCounts(coord)).toEqual(before);
  });

  it('a body that breaks the schema → 400 GRID_ERR_BAD_REQUEST', async () => {
    expectError(await postJson(coord, { inputs: [{}] }), 400, 'GRID_ERR_BAD_REQUEST', /kind/);
    expectError(await postJson(coord, { kind: 'echo', inputs: [] }), 400, 'GRID_ERR_BAD_REQUEST', /inputs/);
    expectError(await postJson(coord, { kind: 'echo', inputs: {} }), 400, 'GRID_ERR_BAD_REQUEST', /inputs/);
    expectError(await postJson(coord, { kind: 'echo', inputs: [{}], extra: 1 }), 400, 'GRID_ERR_BAD_REQUEST');
    expectError(await postJson(coord, [{ kind: 'echo' }]), 400, 'GRID_ERR_BAD_REQUEST');
    expectError(await request(coord, 'GET', '/v1/batches?limit=0'), 400, 'GRID_ERR_BAD_REQUEST', /limit/);
    expectError(await request(coord, 'GET', '/v1/batches/x/results?after=abc'), 400, 'GRID_ERR_BAD_REQUEST', /after/);
  });

  it('a JSON body over the limit (16 MiB) → 413 GRID_ERR_BODY_TOO_LARGE', async () => {
    const big = { kind: 'echo', inputs: [{ payload: 'x'.repeat(17 * 1024 * 1024) }] };
    expectError(await postJson(coord, big), 413, 'GRID_ERR_BODY_TOO_LARGE', /NDJSON/);
  });

  it('a bad NDJSON line → 400 GRID_ERR_NDJSON_LINE with its line number, and nothing of the batch is stored', async () => {
    const before = rowCounts(coord);
    // 30,000 good lines first: several chunks are stored and dispatched before the bad line arrives.
    const lines = ['{"kind":"pi","policy":{"replication":1,"quorum":1}}', ...Array.from({ length: 30_000 }, (_, i) => pi(i)), '{"seed": 7, "samples":', pi(1)];
    const res = await postNdjson(coord, lines);
    expectError(res, 400, 'GRID_ERR_NDJSON_LINE', /^line 30002: invalid JSON/);
    // Tasks dispatched meanwhile are withdrawn and deleted with the units.
    await eventually(() => {
      const now = rowCounts(coord);
      return now.batches === before.batches && now.workUnits === before.workUnits && now.tasks === before.tasks;
    }, 10_000);
    const stats = await (await fetch(`${coord.url}/metrics`)).text();
    // They had been stored: the chunks before the one with the bad line.
    expect(Number(/^swarmgrid_work_units_ingested_total (\d+)$/m.exec(stats)![1])).toBeGreaterThanOrEqual(15_000);
  });

  it('a broken NDJSON header, an overlong line or bad UTF-8 → 400 GRID_ERR_NDJSON_LINE', async () => {
    expectError(await postNdjson(coord, ['[1, 2]', pi(0)]), 400, 'GRID_ERR_NDJSON_LINE', /^line 1: the header must be an object/);
    expectError(await postNdjson(coord, ['{"kind":"pi","inputs":[]}', pi(0)]), 400, 'GRID_ERR_NDJSON_LINE', /^line 1: unknown field "inputs"/);
    expectError(await postNdjson(coord, ['', '{"kind":"pi"']), 400, 'GRID_ERR_NDJSON_LINE', /^line 2: invalid JSON/);
    expectError(await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/x-ndjson', body: '' }), 400, 'GRID_ERR_NDJSON_LINE', /^line 1: missing header/);
    const long = JSON.stringify({ payload: 'y'.repeat(1024 * 1024 + 10) });
    expectError(await postNdjson(coord, ['{"kind":"echo"}', '{"a":1}', long]), 400, 'GRID_ERR_NDJSON_LINE', /^line 3: line longer than/);
    const bytes = new Uint8Array([...new TextEncoder().encode('{"kind":"echo"}\n{"a":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}\n')]);
    expectError(await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/x-ndjson', body: bytes }), 400, 'GRID_ERR_NDJSON_LINE', /UTF-8/);
  });

  it('a batch without work units → 400 GRID_ERR_EMPTY_BATCH', async () => {
    expectError(await postNdjson(coord, ['{"kind":"echo"}', '', '']), 400, 'GRID_ERR_EMPTY_BATCH');
  });

  it('an upload that breaks off leaves nothing behind', async () => {
    const before = rowCounts(coord);
    const abort = new AbortController();
    const aborted = new Promise((r) => abort.signal.addEventListener('abort', r));
    let sent = 0;
    let brokenOff = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (brokenOff) {
          await aborted;
          return controller.error(abort.signal.reason);
        }
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"kind":"pi"}\n'));
        if (sent >= 20_000) {
          // Everything so far is stored; then the client goes away mid-line.
          await eventually(() => rowCounts(coord).workUnits >= before.workUnits + 15_000, 10_000);
          controller.enqueue(new TextEncoder().encode('{"seed":'));
          brokenOff = true;
          setTimeout(() => abort.abort(), 50);
          return;
        }
        controller.enqueue(new TextEncoder().encode(Array.from({ length: 1000 }, (_, i) => pi(sent + i)).join('\n') + '\n'));
        sent += 1000;
      },
    });
    await expect(fetch(`${coord.url}/v1/batches`, {
      method: 'POST', body, duplex: 'half', signal: abort.signal,
      headers: { authorization: `Bearer ${coord.token}`, 'content-type': 'application/x-ndjson' },
    } as RequestInit)).rejects.toThrow(/abort/i);
    await eventually(() => {
      const now = rowCounts(coord);
      return now.batches === before.batches && now.workUnits === before.workUnits;
    }, 10_000);
  });
});

describe('unknown things', () => {
  it('an unknown batch id → 404 GRID_ERR_BATCH_NOT_FOUND on every batch route', async () => {
    for (const [method, path] of [['GET', '/v1/batches/0123456789abcdef'], ['GET', '/v1/batches/0123456789abcdef/results'], ['GET', '/v1/batches/0123456789abcdef/artifact'], ['DELETE', '/v1/batches/0123456789abcdef']]) {
      expectError(await request(coord, method!, path!, { token: coord.token }), 404, 'GRID_ERR_BATCH_NOT_FOUND', /0123456789abcdef/);
    }
  });

  it('an unknown route → 404 GRID_ERR_NOT_FOUND', async () => {
    expectError(await request(coord, 'GET', '/v1/nothing'), 404, 'GRID_ERR_NOT_FOUND', /GET \/v1\/nothing/);
    expectError(await request(coord, 'PUT', '/v1/batches'), 404, 'GRID_ERR_NOT_FOUND');
  });

  it('an artifact before the batch is done → 409 GRID_ERR_NO_ARTIFACT; cancelling a finished batch → 409 GRID_ERR_BATCH_FINISHED', async () => {
    const client = clientOf(coord);
    // Long units (~1 s each) on one worker thread: the batch is surely still running.
    const slow = await client.submit({ kind: 'pi', params: { workUnits: 4, samplesPerUnit: 50_000_000 }, policy: { replication: 1, quorum: 1, timeout: 600 } });
    expectError(await request(coord, 'GET', `/v1/batches/${slow.id}/artifact`), 409, 'GRID_ERR_NO_ARTIFACT', /state: running/);
    expect((await request(coord, 'DELETE', `/v1/batches/${slow.id}`, { token: coord.token })).status).toBe(200);
    expectError(await request(coord, 'DELETE', `/v1/batches/${slow.id}`, { token: coord.token }), 409, 'GRID_ERR_BATCH_FINISHED', /cancelled/);
    expectError(await request(coord, 'GET', `/v1/batches/${slow.id}/artifact`), 409, 'GRID_ERR_NO_ARTIFACT', /cancelled/);
    const done = await client.submit({ kind: 'echo', inputs: [{ a: 1 }], policy: { replication: 1, quorum: 1 } });
    expect((await client.wait(done.id, undefined, 100)).state).toBe('completed');
    expectError(await request(coord, 'DELETE', `/v1/batches/${done.id}`, { token: coord.token }), 409, 'GRID_ERR_BATCH_FINISHED', /completed/);
    withDb(coord, (db) => expect(db.prepare('SELECT state FROM batches WHERE id = ?').get(done.id)).toEqual({ state: 'completed' }));
  });
});
