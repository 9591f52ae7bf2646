/** Network neighbourhoods (coordinator/networks.ts): prefixes, sessions and quotas per network. */
import { describe, expect, it } from 'vitest';
import { networkOf, Networks } from '../../coordinator/networks.js';

describe('networks', () => {
  it('maps an address to its prefix: IPv4 /24, IPv6 /64, IPv4 embedded in IPv6 as IPv4, zone ids ignored', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.5')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(networkOf('fe80::1%eth0')).toBe('fe80::/64');
    // IPv6 addresses that embed an IPv4 address are that address's network: NAT64, 6to4 (one
    // IPv4 address would otherwise own 65,536 /64s), Teredo (client address inverted).
    expect(networkOf('64:ff9b::198.51.100.7')).toBe('198.51.100.0/24');
    expect(networkOf('2002:c633:6407:1234::1')).toBe('198.51.100.0/24');
    expect(networkOf('2001:0:4136:e378:8000:63bf:39cc:9bf8')).toBe('198.51.100.0/24');
    expect(networkOf('10.1.2.3', 16, 48)).toBe('10.1.0.0/16');
    expect(networkOf('2001:db8:1:2::1', 24, 48)).toBe('2001:db8:1::/48');
    expect(networkOf('10.1.2.3', 32)).toBe('10.1.2.3/32');
    expect(networkOf('10.1.2.3', 20)).toBe('10.1.0.0/20');
    // Addresses a transport could not tell all share one network: the safe side.
    expect(networkOf('unknown')).toBe('unknown');
    expect(networkOf('')).toBe('unknown');
  });

  it('on a local grid, every identity is its own network', () => {
    const local = new Networks({ independence: 'identity' });
    expect(local.of('10.0.0.1', 'a')).not.toBe(local.of('10.0.0.1', 'b'));
    const net = new Networks();
    expect(net.of('10.0.0.1', 'a')).toBe(net.of('10.0.0.2', 'b'));
  });

  it('admits at most maxSessions per network and frees a place when one leaves', () => {
    const n = new Networks({ maxSessions: 2 });
    expect(n.join('x', 'a')).toBe(true);
    expect(n.join('x', 'b')).toBe(true);
    expect(n.join('x', 'c')).toBe(false);
    expect(n.join('y', 'c')).toBe(true);
    n.leave('x');
    expect(n.join('x', 'c')).toBe(true);
    expect([...n.identities('x')].sort()).toEqual(['a', 'b', 'c']);
  });

  it('adapts the quota: +1/16 (at least 1) per valid result, -1 per error, halved by a miss at most once a second, within [min, max]', () => {
    const grow = new Networks();
    for (let i = 0; i < 13; i++) grow.note('lab', 'valid');
    expect(grow.quota('lab')).toBe(133); // 64 doubled in 13 validated results
    const n = new Networks({ quotaStart: 10, quotaMin: 4, quotaMax: 12 });
    expect(n.quota('x')).toBe(10);
    expect(n.proven('x')).toBe(false);
    for (let i = 0; i < 5; i++) n.note('x', 'valid');
    expect(n.quota('x')).toBe(12);
    expect(n.proven('x')).toBe(true);
    n.note('x', 'error');
    expect(n.quota('x')).toBe(11);
    n.note('x', 'timeout', 10_000);
    expect(n.quota('x')).toBe(5);
    n.note('x', 'timeout', 10_500); // the same burst
    expect(n.quota('x')).toBe(5);
    n.note('x', 'invalid', 11_000);
    expect(n.quota('x')).toBe(4);
    n.note('x', 'timeout', 20_000);
    expect(n.quota('x')).toBe(4);
  });

  it('names the bad option', () => {
    expect(() => new Networks({ ipv4Prefix: 33 })).toThrow('networks.ipv4Prefix must be an integer from 0 to 32');
    expect(() => new Networks({ quotaStart: 2, quotaMin: 4 })).toThrow(/networks.quotaStart/);
    expect(() => new Networks({ independence: 'nobody' as never })).toThrow(/independence/);
  });
});
