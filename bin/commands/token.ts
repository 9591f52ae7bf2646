import { createToken } from '../../coordinator/http/auth.js';
import { Store } from '../../coordinator/store.js';
import { type Command, usageError } from '../cli.js';

export const token: Command = {
  name: 'token',
  summary: 'create a bearer token for submitters',
  usage: 'swarmgrid token create --data DIR [--name NAME]',
  options: {
    data: { type: 'string', value: 'DIR', description: "the coordinator's data directory; required" },
    name: { type: 'string', value: 'NAME', default: 'default', description: 'a label for the token' },
  },
  notes: 'The token is printed once; only its SHA-256 hash is stored. It works while the coordinator runs.',
  async run(v, positionals) {
    if (positionals[0] !== 'create') throw usageError("expected 'swarmgrid token create'");
    if (!v.data) throw usageError('--data DIR is required');
    const store = new Store({ dataDir: v.data as string });
    try {
      process.stdout.write(createToken(store, (v.name as string | undefined) ?? 'default') + '\n');
    } finally {
      store.close();
    }
  },
};
