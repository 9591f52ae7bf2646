/**
 * Redundant cross-checking against lying volunteers: real coordinator and worker processes,
 * faulty ones built on the real agent (test/fixtures/faulty-worker.mjs). Every accepted result
 * is compared with the truth computed here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { outputsAgree } from '../../jobs/compare.js';
import { decodeJson, encodeOutput } from '../../jobs/codec.js';
import { getBuiltinKind } from '../../jobs/registry.js';
import { TestGrid } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';

let grid: TestGrid;
afterEach(async () => {
  await grid?.close();
});

interface Audit {
  total: number;
  validated: number;
  wrongAccepted: number;
  tasksIssued: number;
}

/** Recomputes every work unit locally and counts accepted results that are not the truth. */
function audit(dataDir: string, batchId: string): Audit {
  const db = openStore(dataDir);
  try {
    const batch = db.prepare('SELECT kind, total, validated, tasks_issued FROM batches WHERE id = ?').get(batchId) as { kind: string; total: number; validated: number; tasks_issued: number };
    const kind = getBuiltinKind(batch.kind)!;
    const rows = db.prepare(`SELECT w.input, t.output FROM work_units w JOIN tasks t ON t.id = w.canonical_task WHERE w.batch_id = ? AND w.state = 'validated'`).all(batchId) as { input: Buffer; output: Buffer }[];
    let wrong = 0;
    for (const r of rows) {
      const truth = encodeOutput(kind, kind.run(kind.validateInput(decodeJson(r.input))));
      if (!outputsAgree(kind, truth, r.output)) wrong++;
    }
    return { total: batch.total, validated: batch.validated, wrongAccepted: wrong, tasksIssued: batch.tasks_issued };
  } finally {
    db.close();
  }
}

function reputation(dataDir: string, key: string) {
  const db = openStore(dataDir);
  try {
    return db.prepare('SELECT valid, invalid, errors, consecutive_valid FROM workers WHERE key = ?').get(key) as { valid: number; invalid: number; errors: number; consecutive_valid: number };
  } finally {
    db.close();
  }
}

const keyOf = async (p: { waitFor: (e: string) => Promise<Record<string, unknown>> }) => (await p.waitFor('worker-started')).key as string;

describe('cross-checking', () => {
  it('5 workers, 2 always wrong (each differently), replication 2 / quorum 2: 500 units, every accepted result true', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const honest = await Promise.all([grid.worker(), grid.worker(), grid.worker()]);
    const faulty = await Promise.all([grid.faultyWorker({ FAULT_MODE: 'wrong', FAULT_SALT: '1' }), grid.faultyWorker({ FAULT_MODE: 'wrong', FAULT_SALT: '2' })]);
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 500, samplesPerUnit: 2000, seed: 11 }, policy: { replication: 2, quorum: 2 } });
    const final = await client.wait(id, undefined, 250);
    expect(final.state).toBe('completed');
    const a = audit(coord.dataDir, id);
    console.log(`faulty pair: ${a.validated}/${a.total} validated, ${a.wrongAccepted} wrong accepted, ${(a.tasksIssued / a.total).toFixed(2)} tasks per unit`);
    expect(a.validated).toBe(500);
    expect(a.wrongAccepted).toBe(0);
    for (const f of faulty) {
      const r = reputation(coord.dataDir, await keyOf(f));
      expect(r.invalid).toBeGreaterThan(0);
      expect(r.valid).toBe(0);
    }
    for (const h of honest) {
      const r = reputation(coord.dataDir, await keyOf(h));
      expect(r.valid).toBeGreaterThan(0);
      expect(r.invalid).toBe(0);
    }
    // Reputation is visible over the API too.
    const workers = (await client.workers()) as { key: string; reputation: { invalid: number } }[];
    expect(workers.filter((w) => w.reputation.invalid > 0)).toHaveLength(2);
  });

  it('a colluding pair: quorum 2 accepts what they agree on when they hold both copies; quorum 3 with 3 honest workers never does', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const colluders = await Promise.all([grid.faultyWorker({ FAULT_MODE: 'collude' }), grid.faultyWorker({ FAULT_MODE: 'collude' })]);
    const client = new GridClient({ url: coord.url, token: coord.token });
    // Only the pair online: quorum 2 has no defence.
    const q2 = await client.submit({ kind: 'pi', params: { workUnits: 40, samplesPerUnit: 2000, seed: 5 }, policy: { replication: 2, quorum: 2 } });
    await client.wait(q2.id, undefined, 250);
    const a2 = audit(coord.dataDir, q2.id);
    expect(a2.wrongAccepted).toBe(a2.total);

    // Three honest workers join: quorum 3 needs a third agreeing identity the pair cannot supply.
    await Promise.all([grid.worker(), grid.worker(), grid.worker()]);
    const q3 = await client.submit({ kind: 'pi', params: { workUnits: 80, samplesPerUnit: 2000, seed: 6 }, policy: { replication: 3, quorum: 3 } });
    const f3 = await client.wait(q3.id, undefined, 250);
    const a3 = audit(coord.dataDir, q3.id);
    console.log(`collusion: quorum 2 (pair alone) accepted ${a2.wrongAccepted}/${a2.total} wrong; quorum 3 accepted ${a3.wrongAccepted}/${a3.total} wrong, ${(a3.tasksIssued / a3.total).toFixed(2)} tasks per unit`);
    expect(f3.state).toBe('completed');
    expect(a3.wrongAccepted).toBe(0);
    for (const c of colluders) expect(reputation(coord.dataDir, await keyOf(c)).invalid).toBeGreaterThan(0);
  });

  it('a tolerance kind: results off in the last bits agree; results outside the tolerance do not', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const client = new GridClient({ url: coord.url, token: coord.token });
    const params = { betaSteps: 4, gammaSteps: 5, pointsPerUnit: 2, days: 100, dt: 0.1 };
    await grid.worker();
    const jitter = await grid.faultyWorker({ FAULT_MODE: 'jitter' });
    const near = await client.submit({ kind: 'ode-sweep', params, policy: { replication: 2, quorum: 2 } });
    await client.wait(near.id, undefined, 250);
    const an = audit(coord.dataDir, near.id);
    expect(an.validated).toBe(an.total);
    expect(an.tasksIssued).toBe(2 * an.total); // agreement at once: no extra tasks
    expect(reputation(coord.dataDir, await keyOf(jitter)).invalid).toBe(0);

    await jitter.stop();
    const skew = await grid.faultyWorker({ FAULT_MODE: 'skew' });
    await grid.worker();
    const far = await client.submit({ kind: 'ode-sweep', params: { ...params, betaMin: 0.2 }, policy: { replication: 2, quorum: 2 } });
    await client.wait(far.id, undefined, 250);
    const af = audit(coord.dataDir, far.id);
    expect(af.validated).toBe(af.total);
    expect(af.wrongAccepted).toBe(0);
    expect(reputation(coord.dataDir, await keyOf(skew)).valid).toBe(0);
    expect(reputation(coord.dataDir, await keyOf(skew)).invalid).toBeGreaterThan(0);
  });

  it('adaptive replication: under 1.3 tasks per unit after warm-up, and a worker that turns faulty never gets a wrong result accepted', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const client = new GridClient({ url: coord.url, token: coord.token });
    const honestWorkers = await Promise.all([grid.worker(), grid.worker()]);
    // Honest through the first three batches, then wrong: armed by signal, because how many tasks
    // each worker gets varies (workers prefetch many tiny tasks at once, so the split is lumpy).
    const turncoat = await grid.faultyWorker({ FAULT_MODE: 'wrong', FAULT_AFTER: 'signal' });
    const policy = { replication: 2, quorum: 2, adaptive: true, trustAfter: 10, spotCheck: 0.1 };
    const run = async (units: number, seed: number, p: object) => {
      const { id } = await client.submit({ kind: 'pi', params: { workUnits: units, samplesPerUnit: 2000, seed }, policy: p });
      expect((await client.wait(id, undefined, 250)).state).toBe('completed');
      return audit(coord.dataDir, id);
    };
    const fixed = await run(60, 1, { ...policy, adaptive: false });
    // Warm-up: every worker earns trust. Tiny tasks go out in lumps (a worker holds up to 256),
    // so one batch may leave a worker with too few results: warm up until all are trusted.
    const keys = await Promise.all([...honestWorkers, turncoat].map(keyOf));
    for (let seed = 2; keys.some((k) => reputation(coord.dataDir, k).consecutive_valid < policy.trustAfter); seed++) {
      expect(seed).toBeLessThan(12);
      await run(60, seed, policy);
    }
    // The closing audit re-checks each trusted worker's single copies since its last spot check
    // (about 1/spotCheck of them per worker): a fixed cost per batch, spread here over 600 units.
    const honest = await run(600, 100, policy);
    expect(turncoat.events.some((e) => e.event === 'tampered')).toBe(false);
    turncoat.proc.kill('SIGUSR2');
    await turncoat.waitFor('fault-armed');
    const turned = await run(400, 101, policy);
    console.log(`adaptive: ${(fixed.tasksIssued / fixed.total).toFixed(2)} tasks per unit without, ${(honest.tasksIssued / honest.total).toFixed(2)} with adaptive replication (honest workers), ${(turned.tasksIssued / turned.total).toFixed(2)} while a trusted worker turned faulty; wrong accepted: ${honest.wrongAccepted} / ${turned.wrongAccepted}`);
    expect(fixed.tasksIssued / fixed.total).toBe(2);
    expect(honest.tasksIssued / honest.total).toBeLessThan(1.3);
    expect(honest.wrongAccepted).toBe(0);
    expect(turncoat.events.some((e) => e.event === 'tampered')).toBe(true);
    expect(turned.wrongAccepted).toBe(0);
    expect(reputation(coord.dataDir, await keyOf(turncoat)).invalid).toBeGreaterThan(0);
  });
});
