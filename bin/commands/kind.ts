/** `swarmgrid kind add|list`: the custom job kinds of a coordinator (its data directory). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { registerKind, storedKinds } from '../../coordinator/code-bundles.js';
import { loadOrCreateKeyPair } from '../../coordinator/identity.js';
import { type Command, usageError } from '../cli.js';
import { initOption, openStoreDir } from './store-dir.js';

export const kind: Command = {
  name: 'kind',
  summary: 'add a custom job kind (one JS module) to a coordinator, or list them',
  usage: 'swarmgrid kind add FILE --data DIR [--init] [--json] | swarmgrid kind list --data DIR [--json]',
  options: {
    data: { type: 'string', value: 'DIR', description: "the coordinator's data directory; required" },
    json: { type: 'boolean', default: 'off', description: 'print one JSON object per kind' },
    init: { ...initOption.init!, description: `add: ${initOption.init!.description}` },
  },
  notes: [
    'add checks the module\'s default export against the job-kind contract (docs/JOB-KINDS.md), signs',
    'its SHA-256 with the coordinator key and stores it; a running coordinator picks it up with the',
    'next batch that names it. Volunteers run it only if they started with --trust COORDINATOR_KEY.',
  ].join('\n'),
  async run(v, positionals) {
    const [action, file] = positionals;
    if (action !== 'add' && action !== 'list') throw usageError("expected 'swarmgrid kind add FILE' or 'swarmgrid kind list'");
    if (!v.data) throw usageError('--data DIR is required');
    const dataDir = v.data as string;
    if (v.init && action !== 'add') throw usageError('--init is for swarmgrid kind add');
    const store = openStoreDir(dataDir, !!v.init);
    try {
      if (action === 'list') {
        for (const row of storedKinds(store)) {
          const fields = { kind: row.name, version: row.version, hash: row.code_hash.toString('hex'), bytes: row.code.length, addedAt: new Date(row.added_at).toISOString() };
          process.stdout.write(v.json ? JSON.stringify(fields) + '\n' : `${row.name}@${row.version} sha256:${fields.hash} ${fields.bytes} bytes, added ${fields.addedAt}\n`);
        }
        return 0;
      }
      if (!file) throw usageError('a module file is required: swarmgrid kind add FILE --data DIR');
      let code: Buffer;
      try {
        code = readFileSync(file);
      } catch (err) {
        throw usageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      const keyPair = loadOrCreateKeyPair(dataDir);
      const { kind: k, hash, replaced } = await registerKind({ store, dataDir: resolve(dataDir), keyPair, code });
      const key = keyPair.publicKey.toString('hex');
      if (v.json) {
        process.stdout.write(JSON.stringify({ kind: k.name, version: k.version, hash: hash.toString('hex'), coordinator: key, replaced: replaced ? `${replaced.name}@${replaced.version}` : null }) + '\n');
      } else {
        process.stdout.write(`${replaced ? 'replaced' : 'added'} ${k.name}@${k.version} sha256:${hash.toString('hex')}\n`
          + `signed by coordinator ${key}\nvolunteers run it with: swarmgrid worker --trust ${key}\n`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
