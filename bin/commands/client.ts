/** The submitter's commands, all over the HTTP API through GridClient. */
import { mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { type BatchSpec, type BatchStatus, GridClient } from '../../coordinator/client/grid-client.js';
import { type Command, type OptionSpec, usageError } from '../cli.js';

const clientOptions: Record<string, OptionSpec> = {
  url: { type: 'string', value: 'URL', default: '$SWARMGRID_URL', description: 'coordinator HTTP API' },
  token: { type: 'string', value: 'TOKEN', default: '$SWARMGRID_TOKEN', description: 'bearer token' },
};

function client(v: Record<string, unknown>): GridClient {
  return new GridClient({ ...(v.url ? { url: v.url as string } : {}), ...(v.token ? { token: v.token as string } : {}) });
}

function progressLine(s: BatchStatus): string {
  const pct = (s.progress * 100).toFixed(1);
  const eta = s.etaSeconds !== null ? ` eta ${s.etaSeconds}s` : '';
  return `${s.id} ${s.state} ${s.counts.validated + s.counts.failed}/${s.total} (${pct}%) validated ${s.counts.validated} failed ${s.counts.failed} ${s.ratePerSecond.toFixed(1)} WU/s${eta}`;
}

function bar(s: BatchStatus, width = 30): string {
  const filled = Math.round(s.progress * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${progressLine(s)}`;
}

export async function writeArtifact(c: GridClient, id: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const art = await c.artifact(id);
  const path = join(dir, art.fileName);
  writeFileSync(path, art.bytes);
  return path;
}

export const submit: Command = {
  name: 'submit',
  summary: 'submit a batch spec ({ "kind", "params" | "inputs", "policy" })',
  usage: 'swarmgrid submit SPEC.json [--url URL] [--token TOKEN] [--wait] [--out DIR]',
  options: {
    ...clientOptions,
    wait: { type: 'boolean', description: 'follow progress until the batch is finished' },
    out: { type: 'string', value: 'DIR', description: 'with --wait: write the artifact into DIR' },
  },
  async run(v, positionals) {
    const file = positionals[0];
    if (!file) throw usageError('a batch spec file is required');
    let spec: BatchSpec;
    try {
      spec = JSON.parse(readFileSync(file, 'utf8')) as BatchSpec;
    } catch (err) {
      throw usageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const c = client(v);
    const { id, total } = await c.submit(spec);
    process.stdout.write(`submitted batch ${id} (${spec.kind}, ${total} work units)\n`);
    if (!v.wait && !v.out) return 0;
    const tty = process.stdout.isTTY;
    let last = 0;
    const final = await c.wait(id, (s) => {
      if (tty) process.stdout.write(`\r\x1b[2K${bar(s)}`);
      else if (Date.now() - last > 2000) {
        last = Date.now();
        process.stdout.write(progressLine(s) + '\n');
      }
    });
    if (tty) process.stdout.write('\n');
    process.stdout.write(`${progressLine(final)}\n`);
    if (final.summary) process.stdout.write(`${final.summary}\n`);
    if (v.out && final.artifact) process.stdout.write(`artifact written to ${await writeArtifact(c, id, v.out as string)}\n`);
    return final.state === 'completed' ? 0 : 1;
  },
};

export const status: Command = {
  name: 'status',
  summary: 'show one batch, or list batches',
  usage: 'swarmgrid status [ID] [--url URL] [--json]',
  options: { ...clientOptions, json: { type: 'boolean', description: 'print the raw JSON' } },
  async run(v, positionals) {
    const c = client(v);
    const list = positionals[0] ? [await c.status(positionals[0])] : await c.list();
    for (const s of list) process.stdout.write((v.json ? JSON.stringify(s) : progressLine(s) + (s.summary ? `\n  ${s.summary}` : '')) + '\n');
  },
};

export const results: Command = {
  name: 'results',
  summary: 'stream the results of a batch as NDJSON',
  usage: 'swarmgrid results ID [-o FILE] [--after SEQ] [--artifact DIR]',
  options: {
    ...clientOptions,
    output: { type: 'string', short: 'o', value: 'FILE', default: 'stdout', description: 'write the NDJSON here' },
    after: { type: 'string', value: 'SEQ', default: '-1', description: 'resume after this work unit' },
    artifact: { type: 'string', value: 'DIR', description: 'also write the reduced artifact into DIR' },
  },
  async run(v, positionals) {
    const id = positionals[0];
    if (!id) throw usageError('a batch id is required');
    const c = client(v);
    const out: NodeJS.WritableStream = v.output ? createWriteStream(v.output as string) : process.stdout;
    for await (const line of c.results(id, Number(v.after ?? -1))) {
      if (!out.write(JSON.stringify(line) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    if (v.output) await new Promise<void>((r) => out.end(() => r()));
    if (v.artifact) process.stderr.write(`artifact written to ${await writeArtifact(c, id, v.artifact as string)}\n`);
  },
};

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a batch (its outstanding tasks are withdrawn from the workers)',
  usage: 'swarmgrid cancel ID [--url URL] [--token TOKEN]',
  options: clientOptions,
  async run(v, positionals) {
    if (!positionals[0]) throw usageError('a batch id is required');
    const s = await client(v).cancel(positionals[0]);
    process.stdout.write(`${progressLine(s)}\n`);
  },
};
