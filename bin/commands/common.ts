/** Options shared by the commands that join a grid. */
import { availableParallelism } from 'node:os';
import { parseBootstrap, DEFAULT_GRID } from '../../proto/discovery.js';
import type { OptionSpec } from '../cli.js';

export const swarmOptions: Record<string, OptionSpec> = {
  grid: { type: 'string', value: 'NAME', default: DEFAULT_GRID, description: 'grid name (its topic is derived from it)' },
  bootstrap: { type: 'string', value: 'HOST:PORT[,...]', default: 'the public HyperDHT', description: 'DHT bootstrap nodes of a private grid' },
  'dht-host': { type: 'string', value: 'HOST', default: '127.0.0.1 if every bootstrap node is on loopback', description: 'address the DHT node binds to' },
  json: { type: 'boolean', description: 'log one JSON object per line' },
};

export function swarmConfig(v: Record<string, unknown>) {
  return {
    grid: (v.grid as string | undefined) ?? DEFAULT_GRID,
    ...(v.bootstrap ? { bootstrap: parseBootstrap(v.bootstrap as string) } : {}),
    ...(v['dht-host'] ? { dhtHost: v['dht-host'] as string } : {}),
  };
}

/** All cores but one, at least one. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}
