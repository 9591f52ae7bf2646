/**
 * Network neighbourhoods: who counts as independent of whom, and how much each neighbourhood may
 * take. Identities cost nothing (a Noise key pair, a random browser id), so "another identity" is
 * no independence at all; the addresses of one IPv4 /24 or one IPv6 /64 mostly belong to one
 * household, lab or cloud tenant. BOINC keeps one result per host per work unit; we keep one per
 * *network* (an address prefix): the scheduler never gives two tasks of a work unit to one
 * network, the validator counts a quorum in networks, and the quotas here (sessions, tasks held)
 * are per network, adapting to how the network behaves (BOINC's `max_wus_in_progress` and
 * `daily_result_quota`: a host that returns errors or misses deadlines gets less).
 *
 * A local grid (the demo, one lab's machines, tests on loopback) runs with `independence:
 * 'identity'`: each identity is its own network. That is an operator's explicit choice
 * (`swarmgrid coordinator --local-grid`), never the default; see docs/SECURITY.md.
 */
import ipaddr from 'ipaddr.js';

export interface NetworkOptions {
  /**
   * 'network': volunteers are independent only when their addresses lie in different prefixes.
   * 'identity': every identity counts as independent (a local grid whose volunteers are all
   * the operator's own). @defaultValue 'network'
   */
  independence?: 'network' | 'identity';
  /** Prefix length that makes one IPv4 network. @defaultValue 24 */
  ipv4Prefix?: number;
  /** Prefix length that makes one IPv6 network. @defaultValue 64 */
  ipv6Prefix?: number;
  /** Sessions one network may hold open at once (a lab behind one NAT). @defaultValue 64 */
  maxSessions?: number;
  /** Tasks a network new to this coordinator may hold at once (it grows with validated results). @defaultValue 64 */
  quotaStart?: number;
  /** The least a network may hold however badly it behaved. @defaultValue 4 */
  quotaMin?: number;
  /** The most a network may hold however well it behaved. @defaultValue 8192 */
  quotaMax?: number;
}

export type ResolvedNetworkOptions = Required<NetworkOptions>;

export const kDefaultNetworkOptions: Readonly<ResolvedNetworkOptions> = Object.freeze({
  independence: 'network' as const,
  ipv4Prefix: 24,
  ipv6Prefix: 64,
  maxSessions: 64,
  quotaStart: 64,
  quotaMin: 4,
  quotaMax: 8192,
});

/** What a network did, for its quota. */
export type NetworkEvent = 'valid' | 'invalid' | 'error' | 'timeout';

/** Networks remembered at most (oldest forgotten first): addresses are many, memory is not. */
const MAX_NETWORKS = 100_000;
/** Identities remembered per network, and in all, for re-checking a caught identity's siblings. */
const MAX_IDENTITIES = 1000;
const MAX_IDENTITIES_IN_ALL = 100_000;

interface NetworkState {
  quota: number;
  sessions: number;
  /** Has had a validated result since this coordinator started. */
  proven: boolean;
  identities: Set<string>;
  /** When the quota was last halved (monotonic ms): a burst of misses halves it once. */
  cutAt: number;
  /** Whether `sharedOnce` has said yes for this network. */
  shared: boolean;
}

function checkInt(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`networks.${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one: IPv4-mapped (`::ffff:a.b.c.d`),
 * NAT64 (`64:ff9b::/96`, RFC 6052: every IPv4 client behind the translator would otherwise share
 * one /64), 6to4 (`2002:AABB:CCDD::/48`: one IPv4 address owns a whole /48, 65,536 /64s) and
 * Teredo (`2001:0::/32`, the client's address inverted in the last 32 bits, RFC 4380).
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (address.range()) {
    case 'ipv4Mapped':
    case 'rfc6052':
      return v4(p[6]!, p[7]!);
    case '6to4':
      return v4(p[1]!, p[2]!);
    case 'teredo':
      return v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff);
    default:
      return undefined;
  }
}

/**
 * The network an address belongs to, as `a.b.c.0/24` or `2001:db8:1:2::/64`. An IPv6 address
 * that embeds an IPv4 address (embeddedIPv4) counts as that IPv4 address. An address that does
 * not parse (a transport that could not tell) is the network `unknown`: all such volunteers share
 * one network, which errs on the safe side.
 */
export function networkOf(address: string, ipv4Prefix = 24, ipv6Prefix = 64): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/%.*$/, ''));
  } catch {
    return 'unknown';
  }
  if (parsed.kind() === 'ipv6') parsed = embeddedIPv4(parsed as ipaddr.IPv6) ?? parsed;
  const bits = parsed.kind() === 'ipv4' ? ipv4Prefix : ipv6Prefix;
  const bytes = parsed.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${bits}`;
}

export class Networks {
  readonly options: Readonly<ResolvedNetworkOptions>;
  #state = new Map<string, NetworkState>();
  #identities = 0;

  constructor(options: NetworkOptions = {}) {
    const o = { ...kDefaultNetworkOptions, ...options };
    if (o.independence !== 'network' && o.independence !== 'identity') throw new RangeError("networks.independence must be 'network' or 'identity'");
    checkInt(o.ipv4Prefix, 'ipv4Prefix', 0, 32);
    checkInt(o.ipv6Prefix, 'ipv6Prefix', 0, 128);
    checkInt(o.maxSessions, 'maxSessions', 1, 1_000_000);
    checkInt(o.quotaMin, 'quotaMin', 1, 1_000_000);
    checkInt(o.quotaStart, 'quotaStart', o.quotaMin, 1_000_000);
    checkInt(o.quotaMax, 'quotaMax', o.quotaStart, 1_000_000);
    this.options = Object.freeze(o);
  }

  /** The network of a volunteer at `address` with identity `key`: its prefix, or the identity on a local grid. */
  of(address: string, key: string): string {
    if (this.options.independence === 'identity') return `id:${key}`;
    return networkOf(address, this.options.ipv4Prefix, this.options.ipv6Prefix);
  }

  #get(network: string): NetworkState {
    let s = this.#state.get(network);
    if (!s) {
      if (this.#state.size >= MAX_NETWORKS) {
        // Forget the oldest network that holds no session (its quota starts over if it returns).
        for (const [k, v] of this.#state) {
          if (v.sessions > 0) continue;
          this.#state.delete(k);
          this.#identities -= v.identities.size;
          break;
        }
      }
      s = { quota: this.options.quotaStart, sessions: 0, proven: false, identities: new Set(), cutAt: -Infinity, shared: false };
      this.#state.set(network, s);
    }
    return s;
  }

  /** Admits one more session from `network`; false when it already has `maxSessions`. */
  join(network: string, key: string): boolean {
    const s = this.#get(network);
    if (s.sessions >= this.options.maxSessions) return false;
    s.sessions++;
    if (!s.identities.has(key) && s.identities.size < MAX_IDENTITIES && this.#identities < MAX_IDENTITIES_IN_ALL) {
      s.identities.add(key);
      this.#identities++;
    }
    return true;
  }

  /** A session admitted by `join` closed. */
  leave(network: string): void {
    const s = this.#state.get(network);
    if (s && s.sessions > 0) s.sessions--;
  }

  sessions(network: string): number {
    return this.#state.get(network)?.sessions ?? 0;
  }

  /** True the first time `network` has two sessions at once, then never again (for a hint in the log). */
  sharedOnce(network: string): boolean {
    const s = this.#state.get(network);
    if (!s || s.shared || s.sessions < 2) return false;
    s.shared = true;
    return true;
  }

  /** Most tasks `network` may hold at once right now. */
  quota(network: string): number {
    return this.#state.get(network)?.quota ?? this.options.quotaStart;
  }

  /** Whether `network` has had a result validated since this coordinator started. */
  proven(network: string): boolean {
    return this.#state.get(network)?.proven ?? false;
  }

  /** Identities seen from `network` in this run (at most 1,000 per network, 100,000 in all). */
  identities(network: string): ReadonlySet<string> {
    return this.#state.get(network)?.identities ?? new Set();
  }

  /**
   * Adapts the network's quota: a validated result earns a sixteenth more, at least one task (a
   * lab behind one NAT doubles its start quota in 13 results and reaches the maximum in 82); an
   * error costs one; a wrong result or a missed deadline halves it, at most once a second, so that
   * one sleeping laptop's burst of expired leases does not cut a whole lab down to the minimum
   * (BOINC's daily quota adapts alike).
   */
  note(network: string, event: NetworkEvent, now = performance.now()): void {
    const s = this.#get(network);
    const { quotaMin, quotaMax } = this.options;
    if (event === 'valid') {
      s.quota = Math.min(quotaMax, s.quota + Math.max(1, Math.floor(s.quota / 16)));
      s.proven = true;
    } else if (event === 'error') s.quota = Math.max(quotaMin, s.quota - 1);
    else if (now - s.cutAt >= 1000) {
      s.cutAt = now;
      s.quota = Math.max(quotaMin, Math.floor(s.quota / 2));
    }
  }
}
