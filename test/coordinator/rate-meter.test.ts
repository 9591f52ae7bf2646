/** The rate behind a running batch's ETA: recent, not the average since submission. */
import { describe, expect, it } from 'vitest';
import { batchView } from '../../coordinator/http/views.js';
import { RateMeter } from '../../proto/rate-meter.js';
import { coordinatorParts } from '../helpers/coordinator-parts.js';

describe('rate meter', () => {
  it('follows the last minute: a slow start does not drag the ETA, and a stall ends it', () => {
    const m = new RateMeter(60_000);
    expect(m.perSecond(0, 0)).toBeUndefined(); // nothing yet: the caller falls back
    // Two minutes at 1 unit/s, then 10 units/s.
    let decided = 0;
    for (let t = 0; t <= 120_000; t += 500) m.note(t, (decided = t / 1000));
    expect(m.perSecond(120_000, decided)).toBeCloseTo(1, 1);
    for (let t = 120_500; t <= 240_000; t += 500) m.note(t, (decided += 5));
    // The average since the start would still say (120 + 1200) / 240 = 5.5 units/s.
    expect(m.perSecond(240_000, decided)).toBeCloseTo(10, 0);
    // Nothing decided for over a minute: rate 0.
    expect(m.perSecond(240_000 + 61_000, decided)).toBe(0);
  });

  it('needs a window of two seconds before it says anything, and keeps at most a sample a second', () => {
    const m = new RateMeter(60_000);
    m.note(0, 0);
    for (let t = 10; t < 1000; t += 10) m.note(t, t); // within the first second: ignored
    expect(m.perSecond(1500, 1500)).toBeUndefined();
    m.note(1000, 1000);
    expect(m.perSecond(2500, 2500)).toBeCloseTo(1000, 0);
  });

  it('is never negative (units reopened for a re-check) and reads sparse progress right', () => {
    const m = new RateMeter(60_000);
    m.note(0, 50);
    m.note(10_000, 40); // ten units reopened by the closing audit
    expect(m.perSecond(10_000, 40)).toBe(0);
    // One unit every 20 s: the base is the last sample before the window, not the first inside.
    const sparse = new RateMeter(60_000);
    for (let t = 0; t <= 200_000; t += 20_000) sparse.note(t, t / 20_000);
    expect(sparse.perSecond(200_000, 10)).toBeCloseTo(0.05, 3);
  });

  it('counts events itself for a volunteer\'s live rate: from the first one on, and 0 once they stop', () => {
    const m = new RateMeter(10_000);
    expect(m.perSecond(0, undefined, 0)).toBeUndefined();
    // Ten tasks over two seconds, the first one included: 5 a second.
    for (let i = 0; i < 10; i++) m.record(1000 + (i * 2000) / 9);
    expect(m.perSecond(3000, undefined, 0)).toBeCloseTo(5, 1);
    // A task in the first half second reads as one a second, not as 2 or as nothing.
    const fresh = new RateMeter(10_000);
    fresh.record(500);
    expect(fresh.perSecond(1000, undefined, 0)).toBe(1);
    // Thirty seconds at 4 a second, then the window shows only that.
    for (let t = 3250; t <= 33_000; t += 250) m.record(t);
    expect(m.perSecond(33_000, undefined, 0)).toBeCloseTo(4, 0);
    // Nothing for longer than the window: 0; reset forgets all.
    expect(m.perSecond(44_000, undefined, 0)).toBe(0);
    m.reset();
    expect(m.perSecond(44_000, undefined, 0)).toBeUndefined();
  });

  it('is what a running batch\'s status shows: its rate and ETA follow the last minute', async () => {
    const parts = coordinatorParts();
    try {
      const id = await parts.batches.create({ kind: 'echo', inputs: [{ a: 1 }], policy: { replication: 1, quorum: 1 } });
      const runtime = parts.sched.batches.get(id)!;
      // Four minutes of a 2,000-unit batch: two at 1 unit/s, then two at 10 units/s (1,320 decided).
      const now = Date.now();
      const start = now - 240_000;
      for (let t = 0; t <= 240_000; t += 1000) runtime.rate.note(start + t, t <= 120_000 ? t / 1000 : 120 + (t - 120_000) / 100);
      const row = { ...parts.store.getBatch(id)!, created_at: start, total: 2000, validated: 1320, failed: 0, provisional: 0 };
      const view = batchView(row, runtime);
      expect(view.state).toBe('running');
      // Since submission: 5.5 units/s and 124 s to go; over the last minute: 10 units/s, 68 s.
      expect(view.ratePerSecond).toBeCloseTo(10, 0);
      expect(view.etaSeconds).toBeGreaterThanOrEqual(65);
      expect(view.etaSeconds).toBeLessThanOrEqual(71);
    } finally {
      parts.close();
    }
  });
});
