import { startBootstrap } from '../../proto/discovery.js';
import { type Command, intOption, untilSignal } from '../cli.js';
import { createLog } from '../log.js';

export const dht: Command = {
  name: 'dht',
  summary: 'run a DHT bootstrap node for a private grid',
  usage: 'swarmgrid dht --port PORT [--host HOST]',
  options: {
    port: { type: 'string', value: 'PORT', default: '49737', description: 'UDP port to listen on' },
    host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'address to bind (0.0.0.0 to serve other machines)' },
    json: { type: 'boolean', description: 'log one JSON object per line' },
  },
  notes: 'Coordinators and workers then use --bootstrap HOST:PORT. --port 0 takes any free port (dht-ready prints it).',
  async run(v) {
    const log = createLog({ json: !!v.json });
    const node = await startBootstrap({ port: intOption(v.port, 'port', 0, 65535) ?? 49737, host: (v.host as string) ?? '127.0.0.1' });
    log('dht-ready', { bootstrap: `${node.host}:${node.port}` });
    await untilSignal();
    await node.destroy();
    log('dht-stopped');
  },
};
