/**
 * The coordinator stops within 2 s of SIGTERM (issue 12, case 18), with four workers connected
 * and tasks out, a big generated batch still being stored, a reader on a results stream and an
 * NDJSON upload half-way: real coordinator and worker processes on a local DHT. The time is from
 * the signal to the process's exit. A .serial test: it times a stop, so it runs alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { type CoordinatorProcess, eventually, type GridProcess, TestGrid } from '../helpers/grid.js';
import { clientOf, withDb } from '../api/helpers.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;
const workers: GridProcess[] = [];

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  for (let i = 0; i < 4; i++) workers.push(await grid.worker({ threads: 1 }));
  await Promise.all(workers.map((w) => w.waitFor('coordinator-joined')));
}, 120_000);
afterAll(() => grid.close());

describe('coordinator stop', () => {
  it('exits within 2 s of SIGTERM with four workers connected, tasks out, a batch being stored, a reader and an upload open', async () => {
    const client = clientOf(coord);
    // Slow units, so that tasks are out at the workers when the signal comes.
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 400, samplesPerUnit: 20_000_000 }, policy: { replication: 1, quorum: 1 } });
    await eventually(() => withDb(coord, (db) => (db.prepare(`SELECT count(*) AS n FROM tasks WHERE state = 'leased'`).get() as { n: number }).n > 0), 60_000);
    // A reader that never reads: its response stays open.
    const reader = new AbortController();
    const results = fetch(`${coord.url}/v1/batches/${id}/results`, { signal: reader.signal }).catch(() => undefined);
    // An upload that stops sending after its first lines: its request stays open.
    const upload = fetch(`${coord.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${coord.token}`, 'content-type': 'application/x-ndjson' },
      body: new ReadableStream<Uint8Array>({
        start(c) { c.enqueue(new TextEncoder().encode('{"kind":"echo"}\n{"a":1}\n')); },
        pull: () => new Promise(() => {}),
      }),
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    // A generated batch big enough to be still storing when the signal comes.
    // (Its client does not retry: this test is about the stop, and a retrying client would wait
    // for a coordinator that does not come back until the test restarts it.)
    const big = new GridClient({ url: coord.url, token: coord.token, retryMs: 0 })
      .submit({ kind: 'pi', params: { workUnits: 5_000_000, samplesPerUnit: 1000 } }).catch((err: Error) => err);
    await eventually(() => withDb(coord, (db) => (db.prepare(`SELECT count(*) AS n FROM batches WHERE state = 'loading'`).get() as { n: number }).n === 2), 30_000);
    await new Promise((r) => setTimeout(r, 3000));

    const started = performance.now();
    coord.proc.kill('SIGTERM');
    const code = await Promise.race([coord.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`coordinator stop after SIGTERM: ${seconds.toFixed(2)} s (4 workers, tasks out, a batch being stored, 1 reader, 1 upload open), exit ${String(code)}`);
    reader.abort();
    await Promise.all([results, upload, big]);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(2);
    // Nothing half-stored was acknowledged: the next start discards both unfinished submissions.
    const again = await grid.coordinator({ dataDir: coord.dataDir });
    const discarded = again.events.filter((e) => e.event === 'batch-discarded').length;
    expect(discarded).toBe(2);
  }, 120_000);
});
