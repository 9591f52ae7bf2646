import { Coordinator } from '../../coordinator/coordinator.js';
import { type Command, intOption, untilSignal, usageError } from '../cli.js';
import { createLog } from '../log.js';
import { swarmConfig, swarmOptions } from './common.js';

export const coordinator: Command = {
  name: 'coordinator',
  summary: 'run a coordinator: batches, scheduling, validation, HTTP API',
  usage: 'swarmgrid coordinator --data DIR [--grid NAME] [--bootstrap HOST:PORT] [--http-port PORT]',
  options: {
    data: { type: 'string', value: 'DIR', description: 'data directory (SQLite store, identity key); required' },
    ...swarmOptions,
    'http-port': { type: 'string', value: 'PORT', default: '8080', description: 'HTTP API port (0 = any free port)' },
    'http-host': { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'HTTP API address' },
    'no-http': { type: 'boolean', description: 'do not serve the HTTP API' },
    private: { type: 'boolean', description: 'reading endpoints need a bearer token too' },
    'max-peers': { type: 'string', value: 'N', default: '10000', description: 'most Hyperswarm connections' },
    'rate-limit': { type: 'string', value: 'N', default: '60', description: 'batch submissions per minute per token' },
    durability: { type: 'string', value: 'normal|full', default: 'normal', description: "'full' fsyncs every grouped commit (survives power loss)" },
  },
  notes: 'Create submitter tokens with: swarmgrid token create --data DIR',
  async run(v) {
    if (!v.data) throw usageError('--data DIR is required');
    const durability = (v.durability as string | undefined) ?? 'normal';
    if (durability !== 'normal' && durability !== 'full') throw usageError("--durability must be 'normal' or 'full'");
    const log = createLog({ json: !!v.json });
    const c = await Coordinator.start({
      dataDir: v.data as string,
      ...swarmConfig(v),
      ...(v['no-http'] ? {} : { httpPort: intOption(v['http-port'], 'http-port', 0, 65535) ?? 8080, httpHost: (v['http-host'] as string) ?? '127.0.0.1' }),
      private: !!v.private,
      maxPeers: intOption(v['max-peers'], 'max-peers', 1) ?? 10_000,
      rateLimit: intOption(v['rate-limit'], 'rate-limit', 1) ?? 60,
      durability,
      log,
    });
    log('coordinator-ready', { key: c.publicKey, grid: c.grid, http: c.httpUrl, data: v.data, pid: process.pid });
    const sig = await untilSignal();
    log('coordinator-stopping', { signal: sig });
    await c.close();
  },
};
