import { createToken, isTokenRole, listTokens, revokeToken, TOKEN_ROLES } from '../../coordinator/http/auth.js';
import { type Command, usageError } from '../cli.js';
import { initOption, openStoreDir } from './store-dir.js';

export const token: Command = {
  name: 'token',
  summary: 'create, list and revoke bearer tokens (submitters, operators, volunteer join keys)',
  usage: 'swarmgrid token create|list|revoke ID --data DIR [--name NAME] [--role ROLE] [--json] [--init]',
  options: {
    data: { type: 'string', value: 'DIR', description: "the coordinator's data directory; required" },
    name: { type: 'string', value: 'NAME', default: 'default', description: 'create: a label for the token' },
    role: { type: 'string', value: 'submitter|operator|volunteer', default: 'submitter', description: 'create: what the token may do (see below)' },
    json: { type: 'boolean', description: 'list, revoke: JSON lines instead of text' },
    init: { ...initOption.init!, description: `create: ${initOption.init!.description}` },
  },
  notes: [
    'create prints the token once; only its SHA-256 hash is stored.',
    'Roles: submitter submits batches, cancels its own and reads; operator also cancels any batch and',
    "sees volunteers' addresses in /v1/workers; volunteer is a join key for a --private coordinator's",
    'volunteer page (/?token=TOKEN): it may not submit, cancel, or read a --private coordinator.',
    'list shows each token by id (the first 12 hex digits of its hash), role, name and creation time.',
    'revoke ID (an id from list, 8 digits or more, or the token itself) deletes it.',
    'All three work while the coordinator runs, and take effect at once.',
  ].join('\n'),
  async run(v, positionals) {
    const [action, arg] = positionals;
    if (action !== 'create' && action !== 'list' && action !== 'revoke') throw usageError("expected 'swarmgrid token create', 'list' or 'revoke ID'");
    if (action === 'revoke' && !arg) throw usageError('swarmgrid token revoke needs the token id (see swarmgrid token list)');
    if (!v.data) throw usageError('--data DIR is required');
    const role = (v.role as string | undefined) ?? 'submitter';
    if (!isTokenRole(role)) throw usageError(`--role must be one of ${TOKEN_ROLES.join(', ')}`);
    if (v.role !== undefined && action !== 'create') throw usageError('--role is for swarmgrid token create');
    if (v.init && action !== 'create') throw usageError('--init is for swarmgrid token create');
    const store = openStoreDir(v.data as string, !!v.init);
    try {
      if (action === 'create') process.stdout.write(createToken(store, (v.name as string | undefined) ?? 'default', role) + '\n');
      else if (action === 'list') {
        for (const t of listTokens(store)) process.stdout.write(v.json ? JSON.stringify(t) + '\n' : `${t.id}  ${t.createdAt}  ${t.role.padEnd(9)}  ${t.name}\n`);
      } else {
        const t = revokeToken(store, arg!);
        process.stdout.write(v.json ? JSON.stringify({ revoked: t }) + '\n' : `revoked ${t.id} (${t.name}, created ${t.createdAt})\n`);
      }
    } finally {
      store.close();
    }
  },
};
