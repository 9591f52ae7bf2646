/**
 * Swarm discovery: grid topics, bootstrap addresses and Hyperswarm construction. Node only
 * (browsers reach a coordinator over its WebSocket instead).
 */
import { createHash } from 'node:crypto';
import DHT from 'hyperdht';
import Hyperswarm from 'hyperswarm';
import { ProtoErrors } from './errors.js';
import { listenError } from './listen-errors.js';

export const DEFAULT_GRID = 'swarmgrid/public';

export interface BootstrapNode {
  host: string;
  port: number;
}

/** The 32-byte topic of a grid: SHA-256 of a fixed prefix and the grid name. */
export function gridTopic(name: string): Buffer {
  return createHash('sha256').update(`swarmgrid:grid:${name}`).digest();
}

/** Parses `HOST:PORT[,HOST:PORT...]`. */
export function parseBootstrap(spec: string): BootstrapNode[] {
  return spec.split(',').map((part) => {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(part.trim());
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw ProtoErrors.BOOTSTRAP(part);
    return { host: m[1]!, port };
  });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export interface SwarmOptions {
  /** Private DHT bootstrap nodes; omitted = the public HyperDHT. */
  bootstrap?: BootstrapNode[];
  /**
   * Address the DHT node binds to. Defaults to 127.0.0.1 when every bootstrap node is on
   * loopback: a node bound to all interfaces announces a LAN address that loopback-only peers
   * cannot reach, and server-side connections then never arrive.
   */
  host?: string;
  keyPair?: { publicKey: Buffer; secretKey: Buffer };
  maxPeers?: number;
  /**
   * Tell the DHT this node is reachable (not behind a firewall), so peers connect to it
   * directly. Coordinators on an all-loopback grid set it: there, a worker bound to another
   * loopback address (tests of network neighbourhoods) would otherwise try to holepunch and
   * time out. @defaultValue detected by the DHT
   */
  firewalled?: boolean;
}

export interface Swarm {
  swarm: Hyperswarm;
  dht: DHT;
  /**
   * Resolves once the DHT node's UDP socket is bound (the next tick); rejects with
   * GRID_ERR_ADDRESS_UNAVAILABLE (or another coded listen error) when `host` cannot be bound, which
   * HyperDHT would otherwise keep to itself: the node then runs unbound and finds nobody.
   */
  bound: Promise<void>;
  /** Destroys the swarm then the DHT node. Idempotent. */
  destroy(): Promise<void>;
}

export function createSwarm(options: SwarmOptions): Swarm {
  const bootstrap = options.bootstrap;
  const host = options.host ?? (bootstrap && bootstrap.every((b) => isLoopback(b.host)) ? '127.0.0.1' : undefined);
  const dht = new DHT({
    ...(bootstrap && { bootstrap: bootstrap.map((b) => `${b.host}:${b.port}`) }),
    ...(host && { host }),
    ...(options.keyPair && { keyPair: options.keyPair }),
    ...(options.firewalled !== undefined && { firewalled: options.firewalled }),
  });
  const swarm = new Hyperswarm({
    dht,
    ...(options.keyPair && { keyPair: options.keyPair }),
    ...(options.maxPeers !== undefined && { maxPeers: options.maxPeers }),
  });
  const bound = new Promise<void>((resolve, reject) => {
    dht.once('listening', () => resolve());
    dht.fullyBootstrapped().catch((err: unknown) => reject(listenError(err, { what: 'DHT (UDP)', port: 0, host: host ?? '0.0.0.0', portOption: '--dht-host', hostOption: '--dht-host' })));
  });
  bound.catch(() => {}); // read by whoever starts the node; unhandled otherwise
  let destroying: Promise<void> | undefined;
  return {
    swarm,
    dht,
    bound,
    destroy() {
      destroying ??= (async () => {
        await swarm.destroy().catch(() => {});
        // A node that never bound fails its destroy the same way: nothing is left to release.
        await dht.destroy().catch(() => {});
      })();
      return destroying;
    },
  };
}

export interface BootstrapServer {
  host: string;
  port: number;
  destroy(): Promise<void>;
}

/**
 * Runs a small private DHT (what `swarmgrid dht` starts): a bootstrap node on `port` plus two
 * more persistent nodes in the same process. One node alone is not enough: announces and lookups
 * need other nodes besides the bootstrap to store and find records (measured: with a lone
 * bootstrap node peers never meet; with two or more nodes they connect in ~10 ms).
 */
export async function startBootstrap(opts: { port: number; host?: string; nodes?: number }): Promise<BootstrapServer> {
  const host = opts.host ?? '127.0.0.1';
  // Built by hand rather than with DHT.bootstrapper() so that port 0 (any free port) works too.
  const first = new DHT({ bootstrap: [], port: opts.port, host, ephemeral: false, firewalled: false, anyPort: opts.port === 0 });
  try {
    await first.fullyBootstrapped();
  } catch (err) {
    await first.destroy().catch(() => {});
    throw listenError(err, { what: 'DHT (UDP)', port: opts.port, host, portOption: '--port', hostOption: '--host' });
  }
  const port = first.address().port;
  const nodes = [first];
  for (let i = 1; i < (opts.nodes ?? 3); i++) {
    const node = new DHT({ bootstrap: [{ host, port }], host, ephemeral: false, firewalled: false });
    await node.fullyBootstrapped();
    nodes.push(node);
  }
  let destroying: Promise<void> | undefined;
  return {
    host,
    port,
    destroy() {
      destroying ??= Promise.all(nodes.reverse().map((n) => n.destroy())).then(() => undefined);
      return destroying;
    },
  };
}

export { Hyperswarm, DHT };
