import { describe, expect, it } from 'vitest';
import { HostLoad, parseProcStat } from '../../worker/host-load.js';
import { IdleMonitor, type HostState } from '../../worker/idle-monitor.js';

describe('HostLoad', () => {
  it('parses the aggregate cpu line of /proc/stat (guest time is already in user)', () => {
    const stat = 'cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n';
    expect(parseProcStat(stat)).toEqual({ busyMs: (100 + 5 + 50 + 3 + 2) * 10, totalMs: 1000 * 10 });
    expect(parseProcStat('nothing here')).toBeUndefined();
  });

  it('subtracts the grid\'s own CPU time from the machine\'s busy time', () => {
    let machine = { busyMs: 0, totalMs: 0 };
    let own = 0;
    const load = new HostLoad({ read: () => machine, own: () => own });
    // 2 cores for 1 s = 2000 ms; 1500 busy of which 1000 were ours: others used 25 %.
    machine = { busyMs: 1500, totalMs: 2000 };
    own = 1000;
    expect(load.sample()).toBeCloseTo(0.25);
    // Only the grid working: nothing else is using the machine.
    machine = { busyMs: 3500, totalMs: 4000 };
    own = 3000;
    expect(load.sample()).toBe(0);
    // No time passed on the counters yet: no sample.
    expect(load.sample()).toBeUndefined();
  });
});

describe('IdleMonitor', () => {
  function monitor(loads: number[]) {
    let now = 0;
    const changes: [HostState, number][] = [];
    const m = new IdleMonitor({
      maxLoad: 0.25, idleAfterMs: 3000,
      load: { sample: () => loads.shift() },
      now: () => now,
      onChange: (state, load) => changes.push([state, load]),
    });
    const step = () => { now += 1000; m.tick(); };
    return { m, changes, step };
  }

  it('counts the machine idle only after the load stayed low for idleAfter, and busy at once', () => {
    const { m, changes, step } = monitor([0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1]);
    step(); step();
    expect(m.state).toBe('busy'); // not yet proved idle: 2 s < 3 s
    step();
    expect(changes).toEqual([['idle', 0.1]]);
    step();
    expect(changes.at(-1)).toEqual(['busy', 0.9]); // one busy sample is enough
    step(); step();
    expect(m.state).toBe('busy');
    step();
    expect(m.state).toBe('idle');
  });

  it('names the bad option', () => {
    expect(() => new IdleMonitor({ maxLoad: 0, onChange: () => {} })).toThrow(/options.maxLoad/);
  });
});
