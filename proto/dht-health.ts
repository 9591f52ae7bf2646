/**
 * Whether this node reached the DHT. HyperDHT reports `ready` even when no bootstrap node
 * answered (a dead `--bootstrap`, a blocked UDP port, no network): a peer then waits forever for
 * peers it cannot find. After bootstrapping, a node whose routing table is empty heard from no
 * other node; that is said once with GRID_ERR_DHT_UNREACHABLE, and once more when the DHT answers
 * after all (every lookup and announce of an empty node asks the bootstrap nodes again).
 */
import type DHT from 'hyperdht';
import { type GridError, ProtoErrors } from './errors.js';

/** How often an unreachable DHT is checked again. */
const RECHECK_MS = 5000;

export interface DhtWatch {
  /** Stops watching. Idempotent. */
  stop(): void;
}

export function watchDht(dht: DHT, opts: {
  /** The bootstrap nodes, for the message. @defaultValue 'the public HyperDHT' */
  bootstrap?: string;
  onUnreachable: (err: GridError) => void;
  onReachable: () => void;
}): DhtWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const reached = () => dht.toArray({ limit: 1 }).length > 0;
  dht.fullyBootstrapped().then(() => {
    if (stopped || dht.destroyed || reached()) return;
    opts.onUnreachable(ProtoErrors.DHT_UNREACHABLE(opts.bootstrap ?? 'the public HyperDHT'));
    timer = setInterval(() => {
      if (stopped || dht.destroyed) return clearInterval(timer);
      if (!reached()) return;
      clearInterval(timer);
      opts.onReachable();
    }, RECHECK_MS);
    timer.unref();
  }, () => {}); // a node that failed to bind is reported by whoever created it
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
