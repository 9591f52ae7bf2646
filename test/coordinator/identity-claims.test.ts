/**
 * IdentityClaims (issue 12, case 14): tells a second live process sharing a worker identity from a
 * process that redials or restarts. Pure logic, on an explicit clock (ms).
 */
import { expect, it } from 'vitest';
import { IdentityClaims } from '../../coordinator/identity-claims.js';

it('refuses the newcomer once the instance it displaced comes back, and keeps refusing it', () => {
  const c = new IdentityClaims();
  expect(c.hello('k', 'a', 0)).toEqual({ admit: true });
  // b connects: Hyperswarm knocks a off. Could be a restart of a: admitted.
  c.closed('k', 'a', 1000);
  expect(c.hello('k', 'b', 1000)).toEqual({ admit: true });
  // a redials: both are alive; b displaced a, so b is the duplicate.
  c.closed('k', 'b', 2000);
  expect(c.hello('k', 'a', 2000)).toEqual({ admit: true, evict: 'b' });
  expect(c.hello('k', 'b', 3000)).toEqual({ admit: false });
  expect(c.hello('k', 'b', 600_000)).toEqual({ admit: false });
  // a keeps redialling as it likes.
  c.closed('k', 'a', 4000);
  expect(c.hello('k', 'a', 5000)).toEqual({ admit: true });
  // After the refusal runs out, b is judged afresh.
  expect(c.hello('k', 'b', 3_700_000).admit).toBe(true);
});

it('never refuses a restarted worker (the old process is dead and does not come back)', () => {
  const c = new IdentityClaims();
  c.hello('k', 'a', 0);
  c.closed('k', 'a', 1000);
  expect(c.hello('k', 'a2', 1500)).toEqual({ admit: true });
  c.closed('k', 'a2', 5000);
  expect(c.hello('k', 'a2', 6000)).toEqual({ admit: true });
  // Much later, a third run: still welcome, and the first instance is long gone.
  c.closed('k', 'a2', 10_000);
  expect(c.hello('k', 'a3', 500_000)).toEqual({ admit: true });
  expect(c.hello('k', 'a2', 500_500)).toEqual({ admit: true });
});

it('keeps identities apart, and never judges a Hello without an instance (older workers)', () => {
  const c = new IdentityClaims();
  c.hello('k', 'a', 0);
  c.hello('j', 'b', 0);
  expect(c.hello('k', '', 10)).toEqual({ admit: true });
  expect(c.hello('j', 'b', 20)).toEqual({ admit: true });
});
