/**
 * The API's routes end to end against a real coordinator process and its SQLite file, with two
 * worker processes: submit (JSON and NDJSON), follow, list, results in order (and resumed),
 * artifact, cancel (tasks withdrawn at the workers), workers, kinds, health and metrics.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, type GridProcess, TestGrid } from '../helpers/grid.js';
import { clientOf, postJson, postNdjson, request, withDb } from './helpers.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;
let workers: GridProcess[];

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  workers = await Promise.all([grid.worker(), grid.worker()]);
  await Promise.all(workers.map((w) => w.waitFor('coordinator-joined')));
});
afterAll(() => grid.close());

const rep1 = { replication: 1, quorum: 1 };

describe('submitting and following a batch', () => {
  it('a JSON batch (generator params) is stored, dispatched, validated and reduced into its artifact', async () => {
    const res = await postJson(coord, { kind: 'pi', params: { workUnits: 50, samplesPerUnit: 10_000, seed: 5 }, policy: { replication: 2, quorum: 2 } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), total: 50, state: 'running' });
    const client = clientOf(coord);
    const final = await client.wait(res.json.id, undefined, 100);
    expect(final).toMatchObject({
      id: res.json.id, kind: 'pi', kindVersion: '2.0.0', state: 'completed', total: 50, progress: 1,
      counts: { validated: 50, failed: 0, pending: 0, inProgress: 0, inconclusive: 0, cancelled: 0 },
      params: { workUnits: 50, samplesPerUnit: 10_000, seed: 5 },
      policy: { replication: 2, quorum: 2, lease: 60 },
      owner: createHash('sha256').update(coord.token).digest('hex').slice(0, 12), // the token's id
      etaSeconds: null,
      artifact: { contentType: 'application/json', fileName: 'pi.json' },
    });
    expect(final.tasksIssued).toBeGreaterThanOrEqual(100);
    expect(final.ratePerSecond).toBeGreaterThan(0);
    expect(final.summary).toMatch(/pi ≈ 3\.1/);
    expect(Date.parse(final.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(final.createdAt));

    const artifact = await request(coord, 'GET', `/v1/batches/${res.json.id}/artifact`);
    expect(artifact.status).toBe(200);
    expect(artifact.headers.get('content-type')).toMatch(/^application\/json/);
    expect(artifact.headers.get('content-disposition')).toBe('attachment; filename="pi.json"');
    expect(artifact.json).toMatchObject({ samples: 50 * 10_000, workUnits: 50 });
  });

  it('an NDJSON batch streams in; results come back as NDJSON in work-unit order, resumable with ?after', async () => {
    const lines = [JSON.stringify({ kind: 'echo', policy: rep1 }), ...Array.from({ length: 300 }, (_, i) => JSON.stringify({ n: i, tag: `unit-${i}` }))];
    const res = await postNdjson(coord, lines);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ total: 300, state: 'running' });
    const client = clientOf(coord);
    expect((await client.wait(res.json.id, undefined, 100)).state).toBe('completed');

    const all = await request(coord, 'GET', `/v1/batches/${res.json.id}/results`);
    expect(all.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const parsed = all.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(parsed.map((l) => l.seq)).toEqual([...Array(300).keys()]);
    expect(parsed[7]).toEqual({ seq: 7, state: 'validated', output: { n: 7, tag: 'unit-7' }, agreed: 1 });

    // Resume after seq 249, at most 20 lines; the typed client streams the same lines.
    const page = await request(coord, 'GET', `/v1/batches/${res.json.id}/results?after=249&limit=20`);
    expect(page.text.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual(Array.from({ length: 20 }, (_, i) => 250 + i));
    const streamed = [];
    for await (const line of client.results(res.json.id, 289)) streamed.push(line.seq);
    expect(streamed).toEqual([290, 291, 292, 293, 294, 295, 296, 297, 298, 299]);
    expect((await request(coord, 'GET', `/v1/batches/${res.json.id}/results?after=299`)).text).toBe('');

    // What the stream says is what the store holds.
    withDb(coord, (db) => {
      const rows = db.prepare(`SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM work_units WHERE batch_id = ? AND state = 'validated'`).get(res.json.id);
      expect(rows).toEqual({ n: 300, lo: 0, hi: 299 });
    });
  });

  it('results of a running batch stop at the first undecided unit, so ?after never skips one', async () => {
    const client = clientOf(coord);
    // ~0.25 s per unit on two worker threads: results trickle in while we read.
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 24, samplesPerUnit: 10_000_000 }, policy: rep1 });
    let after = -1;
    const seen: number[] = [];
    while (seen.length < 24) {
      for await (const line of client.results(id, after)) {
        seen.push(line.seq);
        after = line.seq;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toEqual([...Array(24).keys()]);
    expect((await client.wait(id, undefined, 100)).state).toBe('completed');
  });

  it('GET /v1/batches lists batches newest first, filtered by state and limited', async () => {
    const client = clientOf(coord);
    const listed = await client.list();
    expect(listed.length).toBeGreaterThanOrEqual(3);
    const created = listed.map((b) => Date.parse(b.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect((await client.list({ limit: 1 }))).toHaveLength(1);
    expect((await client.list({ state: 'completed' })).every((b) => b.state === 'completed')).toBe(true);
    expect(await client.list({ state: 'cancelled' })).toEqual([]);
  });

  it('status while running shows counts per state, progress, rate and an ETA', async () => {
    const client = clientOf(coord);
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 30, samplesPerUnit: 8_000_000 }, policy: rep1 });
    const running = await eventually(async () => {
      const s = await client.status(id);
      return s.counts.validated >= 2 && s.counts.pending > 0 ? s : undefined;
    });
    expect(running.state).toBe('running');
    expect(running.counts.inProgress).toBeGreaterThan(0);
    expect(running.counts.validated + running.counts.pending).toBe(30);
    expect(running.progress).toBeCloseTo(running.counts.validated / 30, 5);
    expect(running.ratePerSecond).toBeGreaterThan(0);
    expect(running.etaSeconds).toBeGreaterThanOrEqual(0);
    await client.cancel(id);
  });
});

describe('cancelling', () => {
  it('DELETE cancels a batch, and its tasks out at the workers are cancelled there: the workers are free at once', async () => {
    const client = clientOf(coord);
    // Units of ~2.5 s: each worker thread is busy with one and holds more. A time limit makes the
    // workers run each alone (they may pack short tasks into one thread call, and a call cannot
    // be stopped for one of its tasks): this checks the Cancel, not the packing heuristics.
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 40, samplesPerUnit: 100_000_000 }, policy: { ...rep1, timeout: 600 } });
    await eventually(() => withDb(coord, (db) => (db.prepare(`SELECT count(*) AS n FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ? AND t.state = 'leased'`).get(id) as { n: number }).n >= 3));
    await new Promise((r) => setTimeout(r, 300)); // the first units are running now
    const res = await request(coord, 'DELETE', `/v1/batches/${id}`, { token: coord.token });
    const cancelledAt = Date.now();
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, state: 'cancelled', counts: { pending: 0, validated: 0 } });
    expect(res.json.counts.cancelled).toBe(40);

    // Had the workers not dropped them, the next batch would wait ≥ 5 s behind two long units per
    // thread (longer on a loaded machine, where the units slow down too); dropped, it takes well under.
    const next = await client.submit({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }], policy: rep1 });
    expect((await client.wait(next.id, undefined, 50)).state).toBe('completed');
    expect(Date.now() - cancelledAt).toBeLessThan(4000);

    withDb(coord, (db) => {
      const tasks = db.prepare(`SELECT t.state, count(*) AS n FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ? GROUP BY t.state`).all(id) as { state: string; n: number }[];
      expect(tasks.map((t) => t.state)).toEqual(['cancelled']);
      expect(db.prepare(`SELECT DISTINCT state FROM work_units WHERE batch_id = ?`).all(id)).toEqual([{ state: 'cancelled' }]);
      expect(db.prepare('SELECT state FROM batches WHERE id = ?').get(id)).toEqual({ state: 'cancelled' });
    });
    expect((await client.status(id)).state).toBe('cancelled');
  });

  it('cancelling a batch that is still streaming in stops its ingest; the submitter gets 409', async () => {
    const client = clientOf(coord);
    let sent = 0;
    async function* inputs() {
      for (; sent < 200_000; sent++) {
        if (sent === 20_000) {
          const loading = await eventually(async () => (await client.list({ state: 'loading' }))[0]);
          await client.cancel(loading.id);
        }
        yield { i: sent };
      }
    }
    await expect(client.submitNdjson({ kind: 'echo', policy: rep1 }, inputs())).rejects.toMatchObject({ code: 'GRID_ERR_BATCH_FINISHED', statusCode: 409 });
    const [cancelled] = await client.list({ state: 'cancelled', limit: 1 });
    expect(cancelled!.total).toBeGreaterThan(0);
    expect(cancelled!.total).toBeLessThan(200_000);
    // Units validated while it streamed in stay validated; nothing is left pending.
    withDb(coord, (db) => {
      const states = (db.prepare(`SELECT DISTINCT state FROM work_units WHERE batch_id = ?`).all(cancelled!.id) as { state: string }[]).map((r) => r.state);
      expect(states).toContain('cancelled');
      expect(states.filter((s) => s !== 'cancelled' && s !== 'validated')).toEqual([]);
    });
  });
});

describe('the grid', () => {
  it('GET /v1/workers lists both workers, connected, with reputation', async () => {
    const res = await request(coord, 'GET', '/v1/workers');
    expect(res.status).toBe(200);
    const keys = await Promise.all(workers.map(async (w) => (await w.waitFor('worker-started')).key));
    expect(res.json.workers.map((w: { key: string }) => w.key).sort()).toEqual([...keys].sort());
    for (const w of res.json.workers) {
      expect(w).toMatchObject({ runtime: 'node', connected: true, threads: 1, reputation: { invalid: 0 } });
      expect(w.reputation.valid).toBeGreaterThan(0);
      expect(w.tasksDone).toBeGreaterThan(0);
    }
  });

  it('GET /v1/kinds lists every kind with its params and defaults', async () => {
    const res = await request(coord, 'GET', '/v1/kinds');
    const names = res.json.kinds.map((k: { name: string }) => k.name);
    expect(names).toEqual(expect.arrayContaining(['pi', 'echo', 'primes', 'mandelbrot', 'ode-sweep', 'hp-fold']));
    const pi = res.json.kinds.find((k: { name: string }) => k.name === 'pi');
    expect(pi).toMatchObject({ version: '2.0.0', custom: false, output: 'json', comparator: 'exact', reducer: true, generator: true });
    expect(pi.params).toContainEqual({ name: 'samplesPerUnit', type: 'integer', default: 1_000_000, description: 'darts per work unit' });
  });

  it('GET /healthz and GET /metrics (Prometheus text format)', async () => {
    const health = await request(coord, 'GET', '/healthz');
    expect(health.json).toMatchObject({ status: 'ok', coordinator: coord.key, grid: grid.grid, workers: 2 });
    const metrics = await request(coord, 'GET', '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    // Every sample has HELP and TYPE lines; values are numbers.
    const samples = metrics.text.split('\n').filter((l) => l && !l.startsWith('#'));
    for (const s of samples) expect(s).toMatch(/^[a-z_]+(\{[a-z]+="[a-z]+"\})? -?\d+(\.\d+)?(e[+-]?\d+)?$/);
    for (const name of new Set(samples.map((s) => s.split(/[{ ]/)[0]))) {
      expect(metrics.text).toContain(`# HELP ${name} `);
      expect(metrics.text).toMatch(new RegExp(`# TYPE ${name} (counter|gauge)`));
    }
    expect(metrics.text).toMatch(/^swarmgrid_workers_connected 2$/m);
    expect(metrics.text).toMatch(/^swarmgrid_batches\{state="completed"\} [1-9]/m);
    expect(Number(/^swarmgrid_work_units_validated_total (\d+)$/m.exec(metrics.text)![1])).toBeGreaterThanOrEqual(350);
  });
});
