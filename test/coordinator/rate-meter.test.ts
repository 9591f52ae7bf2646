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
});
