/**
 * A volunteer's service conditions (issue 14, item 12): `--schedule` windows in local time and
 * `--not-on-battery`. Outside its window or on battery a worker takes no tasks (it pauses as
 * `--idle-only` does) and comes back when the condition lifts. The parsing and the power-supply
 * reading are checked directly; the behaviour through real worker processes, whose wall clock is
 * stepped with libfaketime (Debian package `faketime`) and whose power supply is a fake
 * /sys/class/power_supply (the SWARMGRID_POWER_SUPPLY_DIR test hook); how the conditions combine
 * with --idle-only through the real agent with an injected load source.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { startBootstrap } from '../../proto/discovery.js';
// From the build: the agent starts Piscina threads from its own compiled files.
import { WorkerAgent } from '../../dist/worker/agent.js';
import { powerSource } from '../../worker/power.js';
import { Schedule } from '../../worker/schedule.js';
import { CLI, TestGrid } from '../helpers/grid.js';

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1']
  .find((p) => existsSync(p));

/** A local Date (the tests run the worker with TZ=UTC, and build dates in UTC). */
const at = (iso: string) => new Date(`${iso}Z`);
// 2026-12-04 is a Friday.

describe('Schedule', () => {
  it('an overnight window belongs to the day it starts: 22:00-07:00 is open at 23:30 and 06:59, closed at 07:00 and 21:59', () => {
    // Built in local time, as the worker reads it.
    const s = Schedule.parse('22:00-07:00');
    const local = (h: number, m: number) => new Date(2026, 11, 4, h, m);
    expect(s.isOpen(local(23, 30))).toBe(true);
    expect(s.isOpen(local(6, 59))).toBe(true);
    expect(s.isOpen(local(7, 0))).toBe(false);
    expect(s.isOpen(local(21, 59))).toBe(false);
    expect(s.isOpen(local(22, 0))).toBe(true);
  });

  it('days, ranges that wrap the week, several windows, and 24:00', () => {
    const s = Schedule.parse(['mon-fri 18:00-08:00', 'sat-sun 00:00-24:00']);
    const local = (day: number, h: number, m = 0) => new Date(2026, 10, 29 + day, h, m); // 2026-11-29 is a Sunday
    expect(s.isOpen(local(1, 12))).toBe(false); // Monday noon
    expect(s.isOpen(local(1, 19))).toBe(true); // Monday evening
    expect(s.isOpen(local(6, 7, 59))).toBe(true); // Saturday morning: Friday's night, and Saturday's day
    expect(s.isOpen(local(1, 3))).toBe(false); // Monday 03:00: Sunday has no night window
    expect(s.isOpen(local(0, 23, 59))).toBe(true); // Sunday all day
    const wrap = Schedule.parse('fri-mon 09:00-17:00');
    expect(wrap.windows[0]!.days).toEqual(new Set([5, 6, 0, 1]));
    expect(Schedule.parse('mon 09:00-10:00,wed 09:00-10:00').windows).toHaveLength(2);
  });

  it('refuses what is not a window, naming it', () => {
    expect(() => Schedule.parse('22-07')).toThrow(/--schedule "22-07": not a window/);
    expect(() => Schedule.parse('moon 10:00-11:00')).toThrow(/unknown day "moon"/);
    expect(() => Schedule.parse('25:00-07:00')).toThrow(/25:00 is not a time of day/);
    expect(() => Schedule.parse('24:00-07:00')).toThrow(/24:00 is not a time of day/);
    expect(() => Schedule.parse('10:00-10:00')).toThrow(/empty/);
    expect(() => Schedule.parse('')).toThrow(/at least one window/);
  });
});

/** A fake /sys/class/power_supply. */
function supplies(dir: string, entries: Record<string, Record<string, string>>): string {
  for (const [name, files] of Object.entries(entries)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (const [file, value] of Object.entries(files)) writeFileSync(join(dir, name, file), `${value}\n`);
  }
  return dir;
}

describe('powerSource', () => {
  const grid = new TestGrid();
  afterEach(() => grid.close());

  it('reads mains, battery, desktops, peripherals, and says unknown where there is nothing to read', () => {
    const laptop = (online: string, status: string) => supplies(grid.tempDir(), { AC: { type: 'Mains', online }, BAT0: { type: 'Battery', status } });
    expect(powerSource(laptop('1', 'Charging'))).toBe('mains');
    expect(powerSource(laptop('1', 'Full'))).toBe('mains');
    expect(powerSource(laptop('0', 'Discharging'))).toBe('battery');
    // Unplugged, and the battery says "Not charging" (some firmware does): still on battery.
    expect(powerSource(laptop('0', 'Not charging'))).toBe('battery');
    expect(powerSource(supplies(grid.tempDir(), { AC0: { type: 'Mains', online: '1' } }))).toBe('mains');
    // A wireless mouse's battery is no reason to stop.
    expect(powerSource(supplies(grid.tempDir(), { hidpp_battery_0: { type: 'Battery', scope: 'Device', status: 'Discharging' } }))).toBe('mains');
    expect(powerSource(grid.tempDir())).toBe('mains');
    expect(powerSource(join(grid.tempDir(), 'missing'))).toBe('unknown');
  });
});

describe('a worker held back by its conditions, as a process', () => {
  let grid: TestGrid | undefined;
  afterEach(async () => {
    await grid?.close();
    grid = undefined;
  });

  async function batchOf(coord: { url: string; token: string }) {
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 4, samplesPerUnit: 10_000, seed: 4 }, policy: { replication: 1, quorum: 1 } });
    return { client, id };
  }

  it.skipIf(!LIBFAKETIME)('--schedule 22:00-07:00: started at 21:59 it takes nothing; at 22:00 it resumes and computes; at 07:00 it pauses again (libfaketime)', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const stamp = join(grid.tempDir('swarmgrid-clock-'), 'faketime');
    // The worker's wall clock is `target`, as an offset from the real one.
    const setClock = (target: Date) => {
      const offset = Math.round((target.getTime() - Date.now()) / 1000);
      writeFileSync(stamp, `${offset >= 0 ? '+' : ''}${offset}\n`);
    };
    setClock(at('2026-12-04T21:59:00'));
    const worker = await grid.worker({
      args: ['--schedule', '22:00-07:00'],
      env: { TZ: 'UTC', LD_PRELOAD: LIBFAKETIME!, FAKETIME_TIMESTAMP_FILE: stamp, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    });
    const closed = await worker.waitFor('schedule-closed');
    expect(closed.reason).toBe('outside the schedule 22:00-07:00');
    await worker.waitFor('coordinator-joined');
    const { client, id } = await batchOf(coord);
    // Connected, offered work, and outside its window: nothing runs for 4 s.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await client.status(id)).counts.validated).toBe(0);
    expect(worker.events.some((e) => e.event === 'worker-resumed')).toBe(false);

    setClock(at('2026-12-04T22:00:05'));
    await worker.waitFor('schedule-open');
    await worker.waitFor('worker-resumed');
    const done = await client.wait(id, undefined, 100);
    expect(done.state).toBe('completed');

    setClock(at('2026-12-05T07:00:05'));
    const reclosed = await worker.waitFor('schedule-closed', (e) => e !== closed);
    expect(reclosed.reason).toBe('outside the schedule 22:00-07:00');
    await worker.waitFor('worker-paused', (e) => e.reason === 'outside the schedule 22:00-07:00' && worker.events.indexOf(e) > worker.events.indexOf(reclosed));
  });

  it('--not-on-battery: on battery it takes nothing; plugged in it computes; unplugged it pauses again', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const dir = supplies(grid.tempDir('swarmgrid-power-'), { AC: { type: 'Mains', online: '0' }, BAT0: { type: 'Battery', status: 'Discharging' } });
    const plug = (on: boolean) => supplies(dir, { AC: { type: 'Mains', online: on ? '1' : '0' }, BAT0: { type: 'Battery', status: on ? 'Charging' : 'Discharging' } });
    const worker = await grid.worker({ args: ['--not-on-battery'], env: { SWARMGRID_POWER_SUPPLY_DIR: dir } });
    await worker.waitFor('power-battery');
    await worker.waitFor('coordinator-joined');
    const { client, id } = await batchOf(coord);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await client.status(id)).counts.validated).toBe(0);

    plug(true);
    await worker.waitFor('power-mains');
    expect((await client.wait(id, undefined, 100)).state).toBe('completed');

    plug(false);
    const again = await worker.waitFor('power-battery', (e) => worker.events.indexOf(e) > worker.events.findIndex((x) => x.event === 'power-mains'));
    expect(again.reason).toBe('on battery');
    await worker.waitFor('worker-paused', (e) => e.reason === 'on battery');
  });
});

describe('conditions combine', () => {
  const grid = new TestGrid();
  afterEach(() => grid.close());

  it('the machine turning idle does not resume a worker on battery; plugged in, it resumes; busy again, it pauses', async () => {
    const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
    const dir = supplies(grid.tempDir('swarmgrid-power-'), { AC: { type: 'Mains', online: '0' }, BAT0: { type: 'Battery', status: 'Discharging' } });
    let load = 0.9;
    const events: string[] = [];
    // The real agent; only the idle monitor's load source is injected (its test hook), as the CPU
    // load of a shared machine cannot be steered.
    const agent = new WorkerAgent({
      threads: 1, grid: grid.grid, bootstrap: [{ host: '127.0.0.1', port: dht.port }], coordinatorTimeoutMs: 0,
      idle: { maxLoad: 0.5, idleAfterMs: 200, sampleMs: 100, load: { sample: () => load } },
      notOnBattery: { dir },
      log: (event) => events.push(event),
    });
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
      return cond();
    };
    try {
      await agent.start();
      expect(agent.pausedFor).toBe('waiting for the machine to be idle; on battery');
      load = 0.1;
      expect(await until(() => events.includes('host-idle'))).toBe(true);
      expect(agent.paused).toBe(true);
      expect(agent.pausedFor).toBe('on battery');
      supplies(dir, { AC: { type: 'Mains', online: '1' }, BAT0: { type: 'Battery', status: 'Charging' } });
      expect(await until(() => !agent.paused)).toBe(true);
      expect(events.filter((e) => e === 'worker-resumed')).toHaveLength(1);
      load = 0.9;
      expect(await until(() => agent.paused)).toBe(true);
      expect(agent.pausedFor).toBe('host busy');
    } finally {
      await agent.close();
      await dht.destroy();
    }
  });
});

describe('the systemd unit in examples/', () => {
  const UNIT = fileURLToPath(new URL('../../examples/systemd/swarmgrid-worker.service', import.meta.url));

  it("its ExecStart names only options swarmgrid worker accepts, and it restarts, runs unprivileged and niced", async () => {
    const unit = readFileSync(UNIT, 'utf8');
    const exec = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(/\s+/);
    expect(exec.slice(0, 2)).toEqual(['/usr/local/bin/swarmgrid', 'worker']);
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...exec.slice(1), '--help'], (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }));
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^DynamicUser=yes$|^User=\S+$/m);
    expect(unit).toMatch(/^Nice=(\d+)$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    // A duplicate identity (exit 78) is a configuration error: restarting would only repeat it.
    expect(unit).toMatch(/^RestartPreventExitStatus=.*\b78\b/m);
  });

  const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  it.skipIf(!ANALYZE)('systemd-analyze verify finds nothing to say about it (no unknown or misspelt directive)', async () => {
    const grid = new TestGrid();
    try {
      // verify checks that ExecStart's program exists: point it at this Node and CLI.
      const copy = join(grid.tempDir('swarmgrid-unit-'), 'swarmgrid-worker.service');
      writeFileSync(copy, readFileSync(UNIT, 'utf8').replace('/usr/local/bin/swarmgrid', `${process.execPath} ${CLI}`));
      const run = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(ANALYZE!, ['verify', copy], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
      });
      expect(run.out).toBe('');
      expect(run.code).toBe(0);
    } finally {
      await grid.close();
    }
  });
});
