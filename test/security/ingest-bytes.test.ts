/**
 * A submission streams into the store a chunk at a time; a chunk was 5,000 units whatever their
 * size, so 5,000 NDJSON lines of 1 MiB (or generated units of 1 MB) were 5 GB of the
 * coordinator's memory before its first write (measured: 1.1 GB resident during a 1.5 GB
 * upload). Chunks are now cut at 8 MiB too: big units reach the store while the upload goes on.
 * A real coordinator process, a real streamed HTTP upload, the store read from its SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { withDb } from '../api/helpers.js';

const LINE_PAYLOAD = 'x'.repeat(1_000_000);
const line = (i: number) => `${JSON.stringify({ value: i, payload: LINE_PAYLOAD })}\n`;

describe('ingest by bytes', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
  }, 120_000);
  afterAll(() => grid.close());

  const stored = () => withDb(coord, (db) => (db.prepare('SELECT count(*) AS n FROM work_units').get() as { n: number }).n);

  it('stores 1 MiB NDJSON lines a few MiB at a time while the upload is still open, not 5,000 lines at a time', async () => {
    const encoder = new TextEncoder();
    let send!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start(c) { send = c; } });
    const answer = fetch(`${coord.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${coord.token}`, 'content-type': 'application/x-ndjson' },
      body, duplex: 'half', signal: AbortSignal.timeout(120_000),
    } as RequestInit);
    send.enqueue(encoder.encode('{"kind":"echo","policy":{"replication":1,"quorum":1}}\n'));
    // 24 MiB, three chunks' worth, then the upload stays open (within its 30 s idle timeout).
    for (let i = 0; i < 24; i++) send.enqueue(encoder.encode(line(i)));
    let during = 0;
    try {
      during = await eventually(() => stored(), 20_000, 200);
    } finally {
      for (let i = 24; i < 30; i++) send.enqueue(encoder.encode(line(i)));
      send.close();
    }
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThan(24);
    const res = await answer;
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ total: 30, state: 'running' });
    expect(stored()).toBe(30);
  }, 120_000);
});
