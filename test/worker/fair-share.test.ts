import { describe, expect, it } from 'vitest';
import { FairShare } from '../../worker/fair-share.js';

function run(share: FairShare<string>, weights: Record<string, number>, picks: number, active = Object.keys(weights)) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const key = share.pick(active.map((k) => ({ key: k, weight: weights[k]! })))!;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('FairShare', () => {
  it('splits picks by weight, 3:1 exactly over whole rounds', () => {
    expect(run(new FairShare(), { a: 3, b: 1 }, 400)).toEqual({ a: 300, b: 100 });
    expect(run(new FairShare(), { a: 1, b: 1, c: 2 }, 400)).toEqual({ a: 100, b: 100, c: 200 });
  });

  it('interleaves rather than serving one coordinator in a long run', () => {
    const share = new FairShare<string>();
    const order = Array.from({ length: 8 }, () => share.pick([{ key: 'a', weight: 3 }, { key: 'b', weight: 1 }]));
    expect(order.filter((k) => k === 'b')).toHaveLength(2);
    expect(order.join('')).not.toMatch(/aaaa/);
  });

  it('gives a coordinator that had no work its share from then on, not a burst to catch up', () => {
    const share = new FairShare<string>();
    run(share, { a: 1, b: 1 }, 1000, ['a']); // b had nothing to offer for a long time
    expect(run(share, { a: 1, b: 1 }, 100)).toEqual({ a: 50, b: 50 });
  });

  it('returns undefined when nobody has work', () => {
    expect(new FairShare().pick([])).toBeUndefined();
  });
});
