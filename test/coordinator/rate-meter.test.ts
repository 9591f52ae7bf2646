/** The rate behind a running batch's ETA: recent, not the average since submission. */
import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../coordinator/rate-meter.js';

describe('rate meter', () => {
  it('follows the last minute: a slow start does not drag the ETA, and a stall ends it', () => {
    const m = new RateMeter(60_000);
    expect(m.perSecond(0, 0)).toBeUndefined(); // nothing yet: the caller falls back
    // Two minutes at 1 unit/s, then 10 units/s.
    let decided = 0;
    for (let t = 0; t <= 120_000; t += 500) m.note(t, (decided = t / 1000));
    expect(m.perSecond(120_000, decided)).toBeCloseTo(1, 1);
    for (let t = 120_500; t <= 240_000; t += 500) m.note(t, (decided += 5));
    expect(m.perSecond(240_000, decided)).toBeCloseTo(10, 0);
    // The average since the start would still say (120 + 1200) / 240 = 5.5 units/s.
    expect(decided / 240).toBeLessThan(6);
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
});
