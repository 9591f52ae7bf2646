/**
 * Results that change (issue 12, case 6), with real processes: on an adaptive batch, a trusted
 * volunteer turns faulty (test/fixtures/faulty-worker.mjs, armed by signal), and a client follows
 * the batch over HTTP as `swarmgrid results` does: status, then `/results?after=` from its
 * cursor. Nothing it was shown may change afterwards, and counts.validated / progress never go
 * back, although units are reopened (the liar caught, the closing audit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../api/helpers.js';
import { type CoordinatorProcess, type GridProcess, TestGrid } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';
import { runBatch } from '../worker/helpers.js';

const policy = { replication: 2, quorum: 2, adaptive: true, trustAfter: 5, spotCheck: 0 };

describe('results stream of an adaptive batch whose trusted worker turns faulty', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;
  let faulty: GridProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
    await Promise.all([grid.worker(), grid.worker()]);
    faulty = await grid.faultyWorker({ FAULT_MODE: 'wrong', FAULT_AFTER: 'signal' });
  });
  afterAll(() => grid.close());

  it('shows only final decisions to a client resuming with ?after=, with counters that never go back', async () => {
    // Everyone earns trust on a warm-up batch, honestly.
    const warm = await runBatch(coord, { kind: 'pi', params: { workUnits: 60, samplesPerUnit: 2000 }, policy: { ...policy, adaptive: false } }, 120_000);
    expect(warm.state).toBe('completed');
    const faultyKey = (faulty.events.find((e) => e.event === 'worker-started')!.key) as string;
    faulty.proc.kill('SIGUSR2');
    await faulty.waitFor('fault-armed');

    const sub = await request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/json', body: JSON.stringify({ kind: 'pi', params: { workUnits: 300, samplesPerUnit: 2000 }, policy }) });
    expect(sub.status).toBe(201);
    const id = (sub.json as { id: string }).id;
    const seen = new Map<number, string>();
    let after = -1;
    let last = { validated: 0, progress: 0 };
    let drops = 0;
    let repeats = 0;
    let provisionalPeak = 0;
    let state = 'running';
    const deadline = Date.now() + 150_000;
    while (state !== 'completed' && state !== 'failed') {
      expect(Date.now()).toBeLessThan(deadline);
      const s = (await request(coord, 'GET', `/v1/batches/${id}`)).json as { state: string; progress: number; counts: { validated: number; provisional?: number } };
      if (s.counts.validated < last.validated || s.progress < last.progress) drops++;
      last = { validated: s.counts.validated, progress: s.progress };
      provisionalPeak = Math.max(provisionalPeak, s.counts.provisional ?? 0);
      state = s.state;
      const page = await request(coord, 'GET', `/v1/batches/${id}/results?after=${after}`);
      for (const line of page.text.split('\n').filter(Boolean)) {
        const seq = (JSON.parse(line) as { seq: number }).seq;
        if (seen.has(seq)) repeats++;
        seen.set(seq, line);
        after = seq;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe('completed');
    const final = (await request(coord, 'GET', `/v1/batches/${id}/results`)).text.split('\n').filter(Boolean);
    expect(final).toHaveLength(300);
    const changed = final.filter((line) => {
      const seq = (JSON.parse(line) as { seq: number }).seq;
      return seen.has(seq) && seen.get(seq) !== line;
    }).length;
    const db = openStore(coord.dataDir);
    const caught = (db.prepare('SELECT invalid FROM workers WHERE key = ?').get(faultyKey) as { invalid: number } | undefined)?.invalid ?? 0;
    db.close();
    console.log(`e2e results stream: ${seen.size} lines streamed while running, ${changed} changed afterwards, ${repeats} repeated, counter drops ${drops}, provisional peak ${provisionalPeak}, liar's invalid results ${caught}`);
    expect(changed).toBe(0);
    expect(repeats).toBe(0);
    expect(drops).toBe(0);
  }, 240_000);
});
