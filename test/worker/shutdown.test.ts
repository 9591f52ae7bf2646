/**
 * Never lose work: a worker stopped with SIGTERM hands its in-flight and prefetched tasks back
 * with Goodbye, and the coordinator re-issues them at once instead of waiting out their leases
 * (60 s here). Measured from the moment the signal is sent to the replacement tasks' issue
 * times in the coordinator's store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { client, tasks } from './helpers.js';

describe('graceful shutdown', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
  });
  afterAll(() => grid.close());

  it('SIGTERM hands held tasks back and the coordinator re-issues them long before their leases would expire', async () => {
    const leaving = await grid.worker({ threads: 1 });
    const staying = await grid.worker({ threads: 1 });
    const leavingKey = (await leaving.waitFor('worker-started')).key as string;
    const stayingKey = (await staying.waitFor('worker-started')).key as string;
    await coord.waitFor('worker-joined', (e) => e.worker === leavingKey);
    await coord.waitFor('worker-joined', (e) => e.worker === stayingKey);
    const { id } = await client(coord).submit({ kind: 'pi', params: { workUnits: 400, samplesPerUnit: 1_000_000, seed: 9 }, policy: { replication: 1, quorum: 1, lease: 60 } });
    await eventually(() => tasks(coord, id).filter((t) => t.worker === leavingKey && t.state === 'valid').length >= 3, 30_000, 20);

    const signalledAt = Date.now();
    leaving.proc.kill('SIGTERM');
    expect(await leaving.exited).toBe(0);
    const goodbye = leaving.events.find((e) => e.event === 'worker-goodbye')!;
    expect(goodbye.returned as number).toBeGreaterThanOrEqual(1);
    expect(leaving.events.some((e) => e.event === 'worker-stopped')).toBe(true);

    const handedBack = await eventually(() => {
      const all = tasks(coord, id);
      const back = all.filter((t) => t.worker === leavingKey && t.state === 'abandoned');
      const reissued = back.map((b) => all.find((t) => t.seq === b.seq && t.id > b.id));
      return back.length > 0 && reissued.every(Boolean) ? reissued.map((t) => t!) : undefined;
    }, 10_000, 20);
    // The coordinator also takes back what it sent that crossed the Goodbye on the wire (an Assign
    // the worker never read): those count as unreceived, not as returned. Tasks can also go back
    // before the Goodbye, with a Decline, while the worker waits (up to 1 s) for its last results
    // to be acknowledged: a loaded CI machine showed 18 handed back against 6 in the Goodbye.
    // Whichever way each went back, it must be re-issued at once (below).
    const seen = await coord.waitFor('worker-goodbye', (e) => e.worker === leavingKey);
    expect(seen.returned).toBe(goodbye.returned);
    expect(handedBack.length).toBeGreaterThanOrEqual((seen.returned as number) + (seen.unreceived as number));
    const received = Date.parse(seen.time as string);
    const delays = handedBack.map((t) => t.issued_at - signalledAt);
    const maxDelay = Math.max(...delays);
    console.log(`re-issue after SIGTERM: ${handedBack.length} task(s) handed back; re-issued ${delays.join(', ')} ms after the signal `
      + `(${handedBack.map((t) => t.issued_at - received).join(', ')} ms after the coordinator received Goodbye)`);
    expect(handedBack.every((t) => t.worker === stayingKey)).toBe(true);
    // Waiting out a lease would take 60 s. Typically ~0.6 s here (the worker's 1 s wait for its
    // last acknowledgements included); a machine at load 15 measured 1.6 s, so the bound is the
    // claim (well before the lease), not the speed.
    expect(maxDelay).toBeLessThan(10_000);
    expect((await client(coord).wait(id, undefined, 100)).state).toBe('completed');
  });
});
