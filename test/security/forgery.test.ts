/**
 * Forgery under the default policy: liars that claim to be node workers, that mint many
 * identities (WebSocket ids, Hyperswarm key pairs) on one /24 or one IPv6 /64, or that earn trust
 * honestly and then lie under adaptive replication. Honest workers run elsewhere (each in a /24
 * of its own); every case counts, from the coordinator's records, the wrong results accepted.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../proto/codec.js';
import { eventually } from '../helpers/grid.js';
import { arenaPerTest, ATTACKER_NET, honest, wrongPi } from './arena.js';
import { type Answer, RawVolunteer } from './raw-volunteer.js';

const newArena = arenaPerTest();

describe('forgery', () => {
  it('takes the runtime from the channel: WebSocket liars claiming RUNTIME_NODE from one address get no quorum', async () => {
    const arena = await newArena();
    await arena.honestWorkers(2);
    const batch = { kind: 'pi', params: { workUnits: 20, samplesPerUnit: 1000 } };
    const absent = await arena.timed(batch);
    const liars = [1, 2].map(() => arena.track(RawVolunteer.ws(arena.url, { answer: wrongPi, hello: { runtime: Runtime.RUNTIME_NODE } }, { localAddress: `${ATTACKER_NET}.1` })));
    await Promise.all(liars.map((l) => l.welcomed()));
    const { id, ms } = await arena.timed(batch);
    const row = arena.coordinator.store.getBatch(id)!;
    const outcome = arena.wrongAccepted(id);
    console.log(`runtime spoofing: wrong accepted ${outcome.wrong}/20; honest batch ${absent.ms} ms alone, ${ms} ms with the liars`);
    expect(row.state).toBe('completed');
    expect(outcome).toEqual({ wrong: 0, validated: 20, failed: 0 });
    expect(liars.reduce((n, l) => n + l.received, 0)).toBeGreaterThan(0); // they were in play
    const sessions = [...arena.coordinator.sessions].filter((s) => s.address === `${ATTACKER_NET}.1`);
    expect(sessions.map((s) => s.runtime)).toEqual(['browser', 'browser']);
    expect(arena.coordinator.store.getWorker(sessions[0]!.key)!.runtime).toBe('browser');
    // The coordinator says, once, why two volunteers of one network count as one.
    expect(arena.events.filter((e) => e.event === 'same-network').map((e) => e.network)).toEqual([`${ATTACKER_NET}.0/24`]);
  });

  it('Sybils: 8 WebSocket ids and 8 Hyperswarm key pairs on one /24 with one wrong answer get nothing accepted', async () => {
    const arena = await newArena();
    await arena.honestWorkers(2);
    const batch = { kind: 'pi', params: { workUnits: 200, samplesPerUnit: 1000 } };
    const absent = await arena.timed(batch);
    const bootstrap = [{ host: '127.0.0.1', port: arena.grid.dht!.port }];
    const sybils = [
      ...Array.from({ length: 8 }, (_, i) => RawVolunteer.ws(arena.url, { answer: wrongPi }, { localAddress: `${ATTACKER_NET}.${10 + i}` })),
      ...(await Promise.all(Array.from({ length: 8 }, (_, i) => RawVolunteer.swarm({ bootstrap, grid: arena.grid.grid, host: `${ATTACKER_NET}.${30 + i}` }, { answer: wrongPi })))),
    ].map((v) => arena.track(v));
    await Promise.all(sybils.map((s) => s.welcomed()));
    const { id, ms } = await arena.timed(batch);
    const outcome = arena.wrongAccepted(id);
    console.log(`sybils (16 identities, one /24): wrong accepted ${outcome.wrong}/200; honest batch ${absent.ms} ms alone, ${ms} ms with the Sybils`);
    expect(outcome).toEqual({ wrong: 0, validated: 200, failed: 0 });
    expect(sybils.filter((s) => s.received > 0).length).toBeGreaterThan(1);
  });

  it('a batch whose connected volunteers are all on one network says why it waits, and runs once another network joins', async () => {
    const arena = await newArena();
    // Two honest workers of one /24: independent machines perhaps, but one network.
    for (const host of ['127.20.0.1', '127.20.0.2']) await arena.grid.worker({ args: ['--dht-host', host] });
    await eventually(() => [...arena.coordinator.sessions].filter((s) => s.welcomed).length === 2);
    const { id } = await arena.client.submit({ kind: 'pi', params: { workUnits: 10, samplesPerUnit: 1000 } });
    const stuck = await arena.client.status(id);
    expect(stuck.waiting).toMatch(/quorum 2 needs volunteers on 2 networks.*127\.20\.0\.0\/24.*--local-grid/);
    expect(arena.events.some((e) => e.event === 'same-network' && e.network === '127.20.0.0/24')).toBe(true);
    await arena.honestWorkers(1);
    await arena.finished(id);
    expect(arena.wrongAccepted(id)).toEqual({ wrong: 0, validated: 10, failed: 0 });
    expect((await arena.client.status(id)).waiting).toBeNull();
  });

  describe('one IPv6 /64 (a household)', () => {
    const addresses = ['fd00:1::10', 'fd00:1::11'];
    let added = false;
    beforeAll(() => {
      // Loopback aliases for two hosts of one /64 (needs root, as in CI).
      try {
        for (const a of addresses) execFileSync('ip', ['-6', 'addr', 'replace', `${a}/128`, 'dev', 'lo'], { stdio: 'ignore' });
        added = true;
      } catch {
        added = false;
      }
    });
    afterAll(() => {
      if (!added) return;
      for (const a of addresses) {
        try {
          execFileSync('ip', ['-6', 'addr', 'del', `${a}/128`, 'dev', 'lo'], { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
    });

    it('two browser volunteers on fd00:1::10 and fd00:1::11 with the same wrong answer get nothing accepted', async (ctx) => {
      if (!added) ctx.skip(); // `ip -6 addr` needs root: CI runs as root
      const arena = await newArena();
      await arena.honestWorkers(2);
      const batch = { kind: 'pi', params: { workUnits: 40, samplesPerUnit: 1000 } };
      const absent = await arena.timed(batch);
      const port = new URL(arena.url).port;
      const liars = addresses.map((a) => arena.track(RawVolunteer.ws(`http://[::1]:${port}`, { answer: wrongPi, hello: { runtime: Runtime.RUNTIME_BROWSER } }, { localAddress: a })));
      await Promise.all(liars.map((l) => l.welcomed()));
      const { id, ms } = await arena.timed(batch);
      const outcome = arena.wrongAccepted(id);
      console.log(`one IPv6 /64: wrong accepted ${outcome.wrong}/40; honest batch ${absent.ms} ms alone, ${ms} ms with the liars`);
      expect(outcome).toEqual({ wrong: 0, validated: 40, failed: 0 });
      expect(liars.every((l) => l.received > 0)).toBe(true);
      expect(new Set([...arena.coordinator.sessions].filter((s) => s.address.startsWith('fd00:1::')).map((s) => s.network))).toEqual(new Set(['fd00:1::/64']));
    });
  });

  it('adaptive replication: Sybils that earned trust honestly, then lie, get nothing accepted (no spot check lands on a sibling)', async () => {
    const arena = await newArena();
    let lying = false;
    const answer: Answer = (task) => (lying && task.kind === 'pi' ? wrongPi(task) : honest(task));
    const sybils = Array.from({ length: 6 }, (_, i) => arena.track(RawVolunteer.ws(arena.url, { answer }, { localAddress: `${ATTACKER_NET}.${50 + i}` })));
    await Promise.all(sybils.map((s) => s.welcomed()));
    await arena.honestWorkers(2);
    const keys = [...arena.coordinator.sessions].filter((s) => s.address.startsWith(`${ATTACKER_NET}.`)).map((s) => s.key);
    expect(keys).toHaveLength(6);
    // Earn trust: honest answers on echo batches until every Sybil has 10 consecutive valid results.
    await eventually(async () => {
      const { id } = await arena.client.submit({ kind: 'echo', params: { workUnits: 200 } });
      await arena.finished(id);
      return keys.every((k) => (arena.coordinator.store.getWorker(k)?.consecutive_valid ?? 0) >= 10);
    }, 90_000, 0);
    lying = true;
    const started = Date.now();
    const { id } = await arena.client.submit({ kind: 'pi', params: { workUnits: 400, samplesPerUnit: 1000 }, policy: { adaptive: true } });
    const row = await arena.finished(id);
    const outcome = arena.wrongAccepted(id);
    const lies = sybils.reduce((n, s) => n + s.answered, 0);
    console.log(`adaptive with 6 trusted Sybils: wrong accepted ${outcome.wrong}/400, ${row.tasks_issued} tasks, ${Date.now() - started} ms`);
    expect(outcome).toEqual({ wrong: 0, validated: 400, failed: 0 });
    expect(lies).toBeGreaterThan(0);
  });
});
