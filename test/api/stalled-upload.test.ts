/**
 * Uploads that stall (issue 12, case 11): a client frozen in the middle of its body is ended by
 * the idle timeout (`--upload-idle-timeout`, 2 s here) with 408 GRID_ERR_UPLOAD_STALLED, its
 * partial batch and the tasks already dispatched of it are deleted, its socket is closed, and
 * sixteen of them at once leave the coordinator's memory where it was. Real sockets that stop
 * sending, a real coordinator process and worker.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { memoryOf, request, rowCounts, withDb } from './helpers.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator({ args: ['--upload-idle-timeout', '2'] });
  const worker = await grid.worker({ threads: 2 });
  await worker.waitFor('coordinator-joined');
});
afterAll(() => grid.close());

interface Stalled {
  socket: Socket;
  /** Everything the coordinator sent back. */
  answer: Promise<string>;
}

/** Opens a POST, sends `body` as one chunk of a chunked upload, then sends nothing more (the socket stays open). */
function stalledUpload(contentType: string, body: string): Stalled {
  const { hostname, port } = new URL(coord.url);
  const socket = connect(Number(port), hostname);
  socket.write(`POST /v1/batches HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${coord.token}\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\n\r\n`);
  socket.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => { text += d; });
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
  });
  return { socket, answer };
}

const ndjson = (units: number) => ['{"kind":"pi","policy":{"replication":1,"quorum":1}}', ...Array.from({ length: units }, (_, i) => JSON.stringify({ seed: i, samples: 100_000 }))].join('\n') + '\n';

const loadingBatches = () => withDb(coord, (db) => (db.prepare(`SELECT count(*) AS n FROM batches WHERE state = 'loading'`).get() as { n: number }).n);

describe('a stalled upload', () => {
  it('of NDJSON is ended with 408 GRID_ERR_UPLOAD_STALLED; its stored and dispatched units are deleted', async () => {
    const before = rowCounts(coord);
    // 12,000 lines: more than one ingest chunk (5,000), so units are stored and dispatched before the stall.
    const up = stalledUpload('application/x-ndjson', ndjson(12_000));
    const seen = await eventually(() => withDb(coord, (db) => {
      const row = db.prepare(`SELECT b.id, (SELECT count(*) FROM work_units w WHERE w.batch_id = b.id) AS units,
        (SELECT count(*) FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = b.id) AS tasks
        FROM batches b WHERE b.state = 'loading'`).get() as { id: string; units: number; tasks: number } | undefined;
      return row && row.units >= 5000 && row.tasks > 0 ? row : undefined;
    }), 30_000, 20);
    const answer = await Promise.race([up.answer, new Promise<string>((r) => setTimeout(() => r('no answer in 30 s'), 30_000))]);
    up.socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1)) as { code: string; message: string };
    expect(body.code).toBe('GRID_ERR_UPLOAD_STALLED');
    console.log(`stalled NDJSON upload: batch ${seen.id} had ${seen.units} units stored and ${seen.tasks} tasks dispatched when it stalled; ended with ${body.code}`);
    // The partial batch is gone, with every task dispatched of it.
    await eventually(() => loadingBatches() === 0, 10_000);
    expect(rowCounts(coord)).toEqual(before);
    expect((await request(coord, 'GET', `/v1/batches/${seen.id}`)).json.code).toBe('GRID_ERR_BATCH_NOT_FOUND');
  });

  it('of a JSON document is cut off by the idle timeout, and the coordinator takes the next one', async () => {
    const up = stalledUpload('application/json', '{"kind":"pi","params":{"workUnits":');
    const closed = await Promise.race([up.answer.then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('still open after 30 s'), 30_000))]);
    up.socket.destroy();
    expect(closed).toBe('closed');
    const ok = await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/json', body: '{"kind":"pi","params":{"workUnits":2}}' });
    expect(ok.status).toBe(201);
  });

  it('sixteen at once are all ended and their memory is given back', async () => {
    const pid = coord.proc.pid!;
    const before = memoryOf(pid).rssMb;
    const ups = Array.from({ length: 16 }, () => stalledUpload('application/x-ndjson', ndjson(6000)));
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, memoryOf(pid).rssMb); }, 100);
    const answers = await Promise.all(ups.map((u) => Promise.race([u.answer, new Promise<string>((r) => setTimeout(() => r('no answer in 60 s'), 60_000))])));
    clearInterval(sampler);
    for (const u of ups) u.socket.destroy();
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 408 /);
    await eventually(() => loadingBatches() === 0, 10_000);
    const after = memoryOf(pid).rssMb;
    console.log(`16 stalled uploads: coordinator RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB peak, ${after.toFixed(0)} MB after they were ended`);
    expect(after).toBeLessThan(before + 150);
  }, 120_000);
});
