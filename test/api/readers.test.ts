/**
 * Many slow readers of the results stream (issue 12, case 17): at most --max-readers (64 by
 * default) are served at once, the others get 429 GRID_ERR_TOO_MANY_READERS; each stream holds
 * only about a chunk of rows and two chunks of text while its reader does not read, so 150 of
 * them cost the coordinator a bounded amount of memory, and their slots are free once they are
 * gone. 150 real sockets that stop reading, a real coordinator process and worker.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { clientOf, memoryOf, request } from './helpers.js';

const READERS = 150;
const MAX_READERS = 64;
const grid = new TestGrid();
let coord: CoordinatorProcess;
let batch: string;

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  const worker = await grid.worker({ threads: 2 });
  await worker.waitFor('coordinator-joined');
  // 2,000 results of 8 KB: each full stream is about 16 MB, more than the kernel's socket buffers
  // of a reader that does not read take in (about 4 MB), so the streams really stall.
  const client = clientOf(coord);
  ({ id: batch } = await client.submit({ kind: 'echo', params: { workUnits: 2000, payloadBytes: 8000 }, policy: { replication: 1, quorum: 1 } }));
  expect((await client.wait(batch, undefined, 200)).state).toBe('completed');
}, 180_000);
afterAll(() => grid.close());

interface Reader {
  socket: Socket;
  /** Resolves with the status code (and a 429's error code) once the first bytes are in. */
  status: Promise<{ status: number; code?: string }>;
}

/**
 * A GET of the results that reads its first chunk (to learn the status) and then nothing more:
 * the socket is paused, so the coordinator's writes stall once the kernel's buffers are full.
 */
function slowReader(): Reader {
  const { hostname, port } = new URL(coord.url);
  const socket = connect(Number(port), hostname, () => socket.write(`GET /v1/batches/${batch}/results HTTP/1.1\r\nHost: x\r\n\r\n`));
  socket.on('error', () => {});
  const status = new Promise<{ status: number; code?: string }>((resolve) => {
    socket.once('data', (d: Buffer) => {
      socket.pause();
      const text = d.toString('latin1');
      const code = /"code":"(GRID_ERR_\w+)"/.exec(text)?.[1];
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), ...(code && { code }) });
    });
    socket.once('close', () => resolve({ status: 0 }));
  });
  return { socket, status };
}

describe(`${READERS} slow readers of /results`, () => {
  it(`are served ${MAX_READERS} at a time, the rest get 429 GRID_ERR_TOO_MANY_READERS, with bounded memory`, async () => {
    const pid = coord.proc.pid!;
    const before = memoryOf(pid).rssMb;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, memoryOf(pid).rssMb); }, 100);
    const readers = Array.from({ length: READERS }, slowReader);
    const statuses = await Promise.all(readers.map((r) => r.status));
    await new Promise((r) => setTimeout(r, 3000)); // the coordinator writes what it can; nobody reads
    clearInterval(sampler);
    const held = memoryOf(pid).rssMb;
    const open = readers.filter((r) => !r.socket.destroyed && r.socket.readyState === 'open').length;
    for (const r of readers) r.socket.destroy();
    const served = statuses.filter((s) => s.status === 200).length;
    const refused = statuses.filter((s) => s.status === 429);
    console.log(`${READERS} slow readers of a 16 MB results stream: ${served} served, ${refused.length} refused (429), ${open} sockets still open after 3 s; coordinator RSS ${before.toFixed(0)} MB before, ${held.toFixed(0)} MB with them open, ${peak.toFixed(0)} MB peak`);
    expect(served).toBe(MAX_READERS);
    expect(refused).toHaveLength(READERS - MAX_READERS);
    for (const r of refused) expect(r.code).toBe('GRID_ERR_TOO_MANY_READERS');
    // With them all open and stalled (the peak also counts garbage not yet collected).
    expect(held - before).toBeLessThan(200);
  }, 120_000);

  it('once they are gone their slots are free: the whole stream is served again', async () => {
    const lines = await (async () => {
      for (let i = 0; i < 50; i++) {
        const res = await request(coord, 'GET', `/v1/batches/${batch}/results`);
        if (res.status === 200) return res.text.trim().split('\n').length;
        await new Promise((r) => setTimeout(r, 200));
      }
      return 0;
    })();
    expect(lines).toBe(2000);
  });
});
