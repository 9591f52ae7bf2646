/** `swarmgrid kinds`: the job kinds a coordinator offers, with their batch params and defaults. */
import type { KindInfo } from '../../coordinator/client/types.js';
import type { Command } from '../cli.js';
import { client, clientOptions } from './client.js';

export const kinds: Command = {
  name: 'kinds',
  summary: 'list the job kinds a coordinator offers, with their params and defaults',
  usage: 'swarmgrid kinds [NAME] [--url URL] [--json]',
  options: {
    ...clientOptions,
    json: { type: 'boolean', description: 'print one JSON object per kind' },
  },
  notes: 'A kind with params takes a batch spec {"kind", "params": {...}}; the others take "inputs".',
  async run(v, positionals) {
    let list = await client(v).kinds();
    if (positionals[0]) {
      list = list.filter((k) => k.name === positionals[0]);
      if (list.length === 0) {
        process.stderr.write(`swarmgrid kinds: the coordinator has no kind "${positionals[0]}"\n`);
        return 1;
      }
    }
    for (const k of list) process.stdout.write(v.json ? JSON.stringify(k) + '\n' : describe(k));
  },
};

function describe(k: KindInfo): string {
  const traits = [k.runtime === 'wasm' ? 'custom, WebAssembly' : k.custom ? 'custom' : 'built-in', `${k.output} output`, `${k.comparator} comparison`, k.reducer ? 'artifact' : 'no artifact'];
  const lines = [`${k.name}@${k.version}  (${traits.join(', ')})`, `  ${k.description}`];
  if (k.params.length > 0) {
    const width = Math.max(...k.params.map((p) => p.name.length));
    lines.push('  params:');
    for (const p of k.params) {
      const dflt = p.default !== undefined ? ` (default: ${JSON.stringify(p.default)})` : '';
      lines.push(`    ${p.name.padEnd(width)}  ${p.type.padEnd(7)}  ${p.description}${dflt}`);
    }
  } else if (!k.generator) {
    lines.push('  no params: send "inputs"');
  }
  return lines.join('\n') + '\n\n';
}
