/**
 * Sabotage by errors, and CPU credit claimed for nothing: eight sessions from one /24 answer
 * every task with an error that claims 2^32 - 1 ms of CPU. One network's errors count once, so
 * no unit fails on them; CPU time is credited for validated results only, at most the lease.
 */
import { describe, expect, it } from 'vitest';
import { readStore } from '../helpers/sqlite.js';
import { arenaPerTest, ATTACKER_NET } from './arena.js';
import { RawVolunteer } from './raw-volunteer.js';

const newArena = arenaPerTest();

describe('sabotage', () => {
  it('errors from one network cannot fail a work unit, and earn no CPU credit; honest CPU time is credited', async () => {
    const arena = await newArena();
    await arena.honestWorkers(2);
    const batch = { kind: 'pi', params: { workUnits: 100, samplesPerUnit: 200_000 } };
    let t = Date.now();
    const alone = await arena.client.submit(batch);
    await arena.finished(alone.id);
    const absentMs = Date.now() - t;

    const saboteurs = Array.from({ length: 8 }, (_, i) => arena.track(RawVolunteer.ws(arena.url, {
      answer: () => ({ errorCode: 'exception', cpuMs: 4294967295 }),
    }, { localAddress: `${ATTACKER_NET}.${i + 1}` })));
    await Promise.all(saboteurs.map((s) => s.welcomed()));
    t = Date.now();
    const { id } = await arena.client.submit(batch);
    const row = await arena.finished(id);
    const presentMs = Date.now() - t;
    const outcome = arena.wrongAccepted(id);
    const errors = saboteurs.reduce((n, s) => n + s.answered, 0);
    console.log(`error sabotage: ${errors} errors sent, ${outcome.failed}/100 units failed, ${outcome.wrong} wrong; honest batch ${absentMs} ms alone, ${presentMs} ms with saboteurs`);
    expect(errors).toBeGreaterThan(8);
    expect(row.state).toBe('completed');
    expect(outcome).toEqual({ wrong: 0, validated: 100, failed: 0 });

    // Credit: none for errors, whatever they claim; the honest workers' valid CPU time, all of it.
    const store = arena.coordinator.store;
    const workers = store.listWorkers();
    const attackers = workers.filter((w) => w.address.startsWith(`${ATTACKER_NET}.`));
    expect(attackers).toHaveLength(8);
    for (const w of attackers) expect(w.cpu_ms).toBe(0);
    const honest = workers.filter((w) => w.runtime === 'node');
    expect(honest).toHaveLength(2);
    for (const w of honest) {
      const { ms } = readStore(arena.dataDir, (db) => db.prepare("SELECT COALESCE(SUM(cpu_ms), 0) AS ms FROM tasks WHERE worker = ? AND state = 'valid'").get(w.key) as { ms: number });
      expect(ms).toBeGreaterThan(0);
      expect(w.cpu_ms).toBe(ms);
    }
    // And a task's claim never exceeds its lease (60 s) in the store either.
    const { top } = readStore(arena.dataDir, (db) => db.prepare('SELECT MAX(cpu_ms) AS top FROM tasks').get() as { top: number });
    expect(top).toBeLessThanOrEqual(60_000);
  });
});
