/**
 * Leases follow the monotonic clock, not the wall clock (issue 12, case 12). The coordinator
 * process runs under libfaketime (Debian package `faketime`) with its wall clock read from a file
 * that the test rewrites mid-batch: a step forward must not expire healthy workers' leases, a
 * step back must not keep a killed worker's leases out. The monotonic clock is left alone
 * (FAKETIME_DONT_FAKE_MONOTONIC), as NTP or an operator's `date -s` would.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { eventually, TestGrid } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1']
  .find((p) => existsSync(p));

let grid: TestGrid | undefined;
afterEach(async () => {
  await grid?.close();
  grid = undefined;
});

/** A coordinator whose wall clock is `offset` seconds away from the real one, as `stamp` says. */
async function fakedCoordinator(g: TestGrid) {
  const stamp = join(g.tempDir('swarmgrid-clock-'), 'faketime');
  writeFileSync(stamp, '+0\n');
  const coord = await g.coordinator({
    env: {
      LD_PRELOAD: LIBFAKETIME!,
      FAKETIME_TIMESTAMP_FILE: stamp,
      // Re-read the file at most once a second: a step takes effect within a second.
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
  });
  const step = (seconds: number) => writeFileSync(stamp, `${seconds >= 0 ? '+' : ''}${seconds}\n`);
  return { coord, step };
}

async function metric(url: string, token: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

const count = (db: ReturnType<typeof openStore>, sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;

describe.skipIf(!LIBFAKETIME)('leases on a stepped wall clock (needs libfaketime: apt-get install faketime)', () => {
  it('a step of +3 min expires no healthy lease; the batch completes with none expired', async () => {
    grid = await new TestGrid().start();
    const { coord, step } = await fakedCoordinator(grid);
    await grid.worker({ threads: 2 });
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({
      // Units of ~2 s each (30 M darts/s per thread): leases are out whenever the clock steps.
      kind: 'pi', params: { workUnits: 16, samplesPerUnit: 60_000_000, seed: 5 },
      policy: { replication: 1, quorum: 1, lease: 60 },
    });
    const db = openStore(coord.dataDir);
    try {
      // Step once the worker holds leases and has returned some results.
      await eventually(() => count(db, `SELECT count(*) AS n FROM tasks WHERE state = 'leased'`) > 0
        && count(db, `SELECT count(*) AS n FROM tasks WHERE state = 'valid'`) >= 2, 90_000, 20);
      const leasedAtStep = count(db, `SELECT count(*) AS n FROM tasks WHERE state = 'leased'`);
      step(180);
      const final = await client.wait(id, undefined, 200);
      expect(final.state).toBe('completed');
      expect(final.counts).toMatchObject({ validated: 16, failed: 0 });
      // Read from the coordinator's counter: an expired task whose result comes in late is stored
      // as returned, so the tasks table alone would hide the expiry.
      const expired = await metric(coord.url, coord.token, 'swarmgrid_leases_expired_total');
      const issued = await metric(coord.url, coord.token, 'swarmgrid_tasks_issued_total');
      console.log(`clock +180 s: ${leasedAtStep} leases out at the step, ${expired} expired, ${issued} tasks issued for 16 units`);
      expect(expired).toBe(0);
      expect(issued).toBe(16);
      // What is stored and shown follows the (stepped) wall clock.
      const latest = db.prepare(`SELECT issued_at FROM tasks ORDER BY id DESC LIMIT 1`).get() as { issued_at: number };
      expect(latest.issued_at).toBeGreaterThan(Date.now() + 120_000);
    } finally {
      db.close();
    }
  }, 180_000);

  it('a step of -1 h still expires a killed worker\'s leases on time; another worker finishes the batch', async () => {
    grid = await new TestGrid().start();
    const { coord, step } = await fakedCoordinator(grid);
    const victim = await grid.worker({ threads: 1 });
    const victimKey = (await victim.waitFor('worker-started')).key as string;
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({
      // Units of ~1.5 s on a quiet machine: the victim (one thread, and the tasks it prefetches)
      // still holds some when it is killed 1.2 s after its first lease. Not longer: the time a
      // loaded machine takes for them is what this test can spend, not what it proves.
      kind: 'pi', params: { workUnits: 8, samplesPerUnit: 45_000_000, seed: 9 },
      policy: { replication: 1, quorum: 1, lease: 5 },
    });
    const db = openStore(coord.dataDir);
    try {
      const held = () => count(db, `SELECT count(*) AS n FROM tasks WHERE worker = ? AND state = 'leased'`, victimKey);
      await eventually(() => held() > 0, 60_000, 20);
      step(-3600);
      // Let the coordinator see the new time before the victim dies.
      await new Promise((r) => setTimeout(r, 1200));
      await victim.stop('SIGKILL');
      const stranded = held();
      expect(stranded).toBeGreaterThan(0);
      const killedAt = Date.now();
      await grid.worker({ threads: 2 });
      // With wall-clock leases the victim's tasks would stay out for an hour and the batch with them.
      await eventually(() => count(db, `SELECT count(*) AS n FROM tasks WHERE worker = ? AND state = 'leased'`, victimKey) === 0, 90_000, 100);
      console.log(`clock -3600 s: ${stranded} leases of the killed worker expired ${Date.now() - killedAt} ms after the kill (lease 5 s)`);
      expect(count(db, `SELECT count(*) AS n FROM tasks WHERE worker = ? AND state = 'expired'`, victimKey)).toBeGreaterThan(0);
      const final = await client.wait(id, undefined, 200);
      expect(final.state).toBe('completed');
      expect(final.counts).toMatchObject({ validated: 8, failed: 0 });
    } finally {
      db.close();
    }
  }, 180_000);
});
