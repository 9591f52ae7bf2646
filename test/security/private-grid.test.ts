/**
 * A --private coordinator closes its Hyperswarm side too: a worker without a join token is
 * refused before anything is sent to it (no batch id, no input); `swarmgrid worker --join
 * KEY=TOKEN` joins and computes. (The WebSocket side: volunteer-socket.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { createToken } from '../../coordinator/http/auth.js';
import { eventually } from '../helpers/grid.js';
import { arenaPerTest, ATTACKER_NET, honest } from './arena.js';
import { RawVolunteer } from './raw-volunteer.js';

const newArena = arenaPerTest();

describe('a private grid', () => {
  it('refuses Hyperswarm volunteers without a join token, and admits `swarmgrid worker --join KEY=TOKEN`', async () => {
    const arena = await newArena({ private: true });
    const bootstrap = [{ host: '127.0.0.1', port: arena.grid.dht!.port }];
    const joinKey = createToken(arena.coordinator.store, 'lab volunteers', 'volunteer');
    const { id } = await arena.client.submit({ kind: 'pi', params: { workUnits: 10, samplesPerUnit: 1000 }, policy: { replication: 1, quorum: 1 } });

    const anonymous = arena.track(await RawVolunteer.swarm({ bootstrap, grid: arena.grid.grid, host: `${ATTACKER_NET}.1` }, { answer: honest }));
    await expect(anonymous.welcomed()).rejects.toThrow(/GRID_ERR_UNAUTHORIZED/);
    const forged = arena.track(await RawVolunteer.swarm({ bootstrap, grid: arena.grid.grid, host: `${ATTACKER_NET}.2` }, { answer: honest, hello: { joinToken: 'sg_not-a-token' } }));
    await expect(forged.welcomed()).rejects.toThrow(/GRID_ERR_UNAUTHORIZED/);
    expect(anonymous.received + forged.received).toBe(0);

    // A worker without a token is told what to do.
    const outsider = await arena.grid.worker({ args: ['--dht-host', '127.12.0.1'] });
    const refused = await outsider.waitFor('coordinator-error');
    expect(refused.code).toBe('GRID_ERR_UNAUTHORIZED');
    expect(refused.hint).toContain(`--join ${arena.coordinator.publicKey}=TOKEN`);
    // ... and asks ever less often: its backoff does not start over on each refused connection.
    await outsider.waitFor('coordinator-redial', (e) => (e.attempt as number) >= 2, 40_000);
    await outsider.stop();

    const worker = await arena.grid.worker({ args: ['--dht-host', '127.10.0.1', '--join', `${arena.coordinator.publicKey}=${joinKey}`] });
    await worker.waitFor('coordinator-joined');
    await eventually(() => arena.coordinator.store.getBatch(id)?.state === 'completed');
    expect(arena.wrongAccepted(id)).toEqual({ wrong: 0, validated: 10, failed: 0 });
  });
});
