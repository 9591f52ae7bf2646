/**
 * Hoarding: many sessions from one /24 take tasks and never answer, or claim absurd thread
 * counts and credit. The network's quota bounds what it holds, its probation leases take the
 * tasks back fast, and no connection ever holds more than its Welcome promised.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/grid.js';
import { type Arena, arenaPerTest, ATTACKER_NET, hoard } from './arena.js';
import { openVolunteer, volunteerId } from './helpers.js';
import { RawVolunteer } from './raw-volunteer.js';

const newArena = arenaPerTest();

const UINT32_MAX = 4294967295;

/**
 * Two honest workers and a hoarder from `host` (64 threads, credit 4096, holding everything);
 * then a pi batch of `workUnits` during which `act` plays the hoarder once a second. Returns the
 * outcome, how long the batch took, and the largest task-time estimate seen meanwhile.
 */
async function hoardDuring(arena: Arena, host: string, workUnits: number, act: (hoarder: RawVolunteer) => void) {
  await arena.honestWorkers(2);
  const hoarder = arena.track(RawVolunteer.ws(arena.url, { answer: hoard, hello: { threads: 64 }, credit: [4096] }, { localAddress: host }));
  await hoarder.welcomed();
  const started = Date.now();
  const { id } = await arena.client.submit({ kind: 'pi', params: { workUnits, samplesPerUnit: 1000 } });
  let maxTaskMs = 0;
  const timer = setInterval(() => {
    act(hoarder);
    maxTaskMs = Math.max(maxTaskMs, arena.coordinator.scheduler.batches.get(id)?.taskMs ?? 0);
  }, 1000);
  const row = await arena.finished(id, 50_000).finally(() => clearInterval(timer));
  expect(row.state).toBe('completed');
  return { hoarder, ms: Date.now() - started, maxTaskMs, outcome: arena.wrongAccepted(id) };
}

describe('hoarding', () => {
  it('20 sessions from one address that never answer hold at most their quota and lose it fast; the honest batch completes', async () => {
    const arena = await newArena();
    await arena.honestWorkers(2);
    const batch = { kind: 'pi', params: { workUnits: 3000, samplesPerUnit: 1000 } };
    // Without attackers first, for the figure.
    let t = Date.now();
    const alone = await arena.client.submit(batch);
    await arena.finished(alone.id);
    const absentMs = Date.now() - t;

    const network = `${ATTACKER_NET}.0/24`;
    const hoarders = Array.from({ length: 20 }, () => arena.track(RawVolunteer.ws(arena.url, {
      answer: hoard, hello: { threads: 64 }, credit: [UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX],
    }, { localAddress: `${ATTACKER_NET}.1` })));
    await Promise.all(hoarders.map((h) => h.welcomed()));
    const quota = arena.coordinator.scheduler.networks.quota(network);
    t = Date.now();
    const { id } = await arena.client.submit(batch);
    // While the batch runs: the network never holds more than its quota, no connection more than its Welcome said.
    let peak = 0;
    const sessions = [...arena.coordinator.sessions].filter((s) => s.network === network);
    const watch = setInterval(() => {
      peak = Math.max(peak, arena.coordinator.scheduler.leases.heldIn(network));
      for (const s of sessions) {
        const held = arena.coordinator.scheduler.leases.heldTotal(s);
        expect(held + s.credit).toBeLessThanOrEqual(hoarders[0]!.welcome!.maxCredit!);
      }
    }, 20);
    const row = await arena.finished(id, 90_000).finally(() => clearInterval(watch));
    const presentMs = Date.now() - t;
    const outcome = arena.wrongAccepted(id);
    const took = hoarders.reduce((n, h) => n + h.received, 0);
    console.log(`hoarding: 20 sessions took ${took} tasks (peak held ${peak}, quota ${quota}); honest batch ${absentMs} ms alone, ${presentMs} ms with hoarders; quota now ${arena.coordinator.scheduler.networks.quota(network)}`);
    expect(row.state).toBe('completed');
    expect(outcome).toEqual({ wrong: 0, validated: 3000, failed: 0 });
    expect(took).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(quota);
    // Missed deadlines cost the network: it gets fewer next time.
    expect(arena.coordinator.scheduler.networks.quota(network)).toBeLessThan(quota);
    // Probation leases (10 s) took the hoarded tasks back long before the batch's 60 s lease.
    expect(presentMs).toBeLessThan(40_000);
  });

  it('handing tasks back and taking them again (Decline + Credit in one write) cannot hold units: they go to other networks first', async () => {
    let cycles = 0;
    let returned = 0;
    const run = await hoardDuring(await newArena(), `${ATTACKER_NET}.5`, 50, (cycler) => {
      returned += cycler.handBackAndRetake();
      cycles++;
    });
    console.log(`hand-back cycling: ${cycles} cycles, ${returned} tasks handed back; honest batch completed in ${run.ms} ms`);
    expect(run.outcome).toEqual({ wrong: 0, validated: 50, failed: 0 });
    // Before: every cycle took the same units back, and the batch waited for the attacker to leave.
    expect(run.ms).toBeLessThan(15_000);
  });

  it('errors claiming huge CPU times do not stretch the task-time estimate, so probation still takes hoarded tasks back', async () => {
    // One error a second claiming 2^32 - 1 ms of CPU, the rest held.
    const run = await hoardDuring(await newArena(), `${ATTACKER_NET}.6`, 200, (inflater) => inflater.answerOne({ errorCode: 'exception', cpuMs: UINT32_MAX }));
    console.log(`cpu inflation: held ${run.hoarder.received} tasks; task time estimated at most ${run.maxTaskMs.toFixed(1)} ms; honest batch completed in ${run.ms} ms`);
    expect(run.outcome).toEqual({ wrong: 0, validated: 200, failed: 0 });
    expect(run.maxTaskMs).toBeLessThan(1000);
    expect(run.ms).toBeLessThan(30_000); // probation (10 s), not the 60 s lease
  });

  it('admits at most --sessions-per-network sessions from one network; other networks still join', async () => {
    const arena = await newArena({ networks: { maxSessions: 3 } });
    const crowd = Array.from({ length: 4 }, (_, i) => arena.track(RawVolunteer.ws(arena.url, { answer: hoard }, { localAddress: `${ATTACKER_NET}.${i + 1}` })));
    const joined = await Promise.allSettled(crowd.map((c) => c.welcomed()));
    expect(joined.filter((j) => j.status === 'fulfilled')).toHaveLength(3);
    const refused = crowd.find((c) => c.error);
    expect(refused?.error?.code).toBe('GRID_ERR_NETWORK_QUOTA');
    // A session that leaves frees its place; another network is not affected at all.
    await crowd.find((c) => !c.error)!.close();
    await eventually(() => arena.coordinator.scheduler.networks.sessions(`${ATTACKER_NET}.0/24`) === 2);
    const next = arena.track(RawVolunteer.ws(arena.url, { answer: hoard }, { localAddress: `${ATTACKER_NET}.9` }));
    const elsewhere = arena.track(RawVolunteer.ws(arena.url, { answer: hoard }, { localAddress: '127.67.0.1' }));
    await Promise.all([next.welcomed(), elsewhere.welcomed()]);
  });

  it('counts connections that never say Hello against their network too', async () => {
    const arena = await newArena({ networks: { maxSessions: 3 } });
    const silent = await Promise.all([1, 2, 3, 4].map(() => openVolunteer(arena.url, `?id=${volunteerId()}`, {}, `${ATTACKER_NET}.7`)));
    try {
      const refused = await silent[3]!.next('error');
      expect(refused.kind === 'error' && refused.error.code).toBe('GRID_ERR_NETWORK_QUOTA');
      expect(arena.coordinator.scheduler.networks.sessions(`${ATTACKER_NET}.0/24`)).toBe(3);
    } finally {
      for (const v of silent) v.ws.terminate();
    }
  });

  it("refuses a Hello with an absurd thread count, and caps a connection's tasks at its Welcome however much credit it grants", async () => {
    // A quota that does not bind here: this case is about one connection.
    const arena = await newArena({ networks: { quotaStart: 100_000, quotaMax: 100_000 } });
    const liar = arena.track(RawVolunteer.ws(arena.url, { answer: hoard, hello: { threads: UINT32_MAX } }, { localAddress: `${ATTACKER_NET}.1` }));
    await expect(liar.welcomed()).rejects.toThrow(/GRID_ERR_PROTOCOL.*threads/);
    await arena.honestWorkers(1);
    // Tiny tasks with results coming in: the work buffer is wide open, only the credit cap binds.
    const { id } = await arena.client.submit({ kind: 'echo', params: { workUnits: 50_000 }, policy: { replication: 1, quorum: 1 } });
    await eventually(() => (arena.coordinator.store.getBatch(id)?.validated ?? 0) > 200);
    const greedy = arena.track(RawVolunteer.ws(arena.url, {
      answer: hoard, hello: { threads: 1 }, credit: [UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX],
    }, { localAddress: `${ATTACKER_NET}.2` }));
    await greedy.welcomed();
    const promised = greedy.welcome!.maxCredit!;
    await new Promise((r) => setTimeout(r, 300));
    console.log(`greedy connection: Welcome promised ${promised}, holds ${greedy.held.size}`);
    expect(greedy.held.size).toBeGreaterThan(promised / 2);
    expect(greedy.held.size).toBeLessThanOrEqual(promised);
    const metrics = await (await fetch(`${arena.url}/metrics`)).text();
    expect(Number(/^swarmgrid_worker_threads (\d+)$/m.exec(metrics)![1])).toBe(2);
    await arena.client.cancel(id);
  });
});
