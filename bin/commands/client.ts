/** The submitter's commands, all over the HTTP API through GridClient. */
import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { FINAL_STATES, GridClient } from '../../coordinator/client/grid-client.js';
import type { BatchSpec, BatchStatus, SubmitOptions, Submitted } from '../../coordinator/client/types.js';
import { type Command, intOption, type OptionSpec, usageError } from '../cli.js';

export const clientOptions: Record<string, OptionSpec> = {
  url: { type: 'string', value: 'URL', default: '$SWARMGRID_URL', description: 'coordinator HTTP API' },
  token: { type: 'string', value: 'TOKEN', default: '$SWARMGRID_TOKEN', description: 'bearer token' },
};

export function client(v: Record<string, unknown>): GridClient {
  return new GridClient({
    ...(v.url ? { url: v.url as string } : {}),
    ...(v.token ? { token: v.token as string } : {}),
    onRetry: (err, attempt) => {
      if (attempt === 1) process.stderr.write(`swarmgrid: ${(err as { code?: string }).code ?? 'error'}: ${err.message}; retrying with the same Idempotency-Key (up to 10 min)\n`);
    },
  });
}

export function progressLine(s: BatchStatus): string {
  const pct = (s.progress * 100).toFixed(1);
  const eta = s.etaSeconds !== null ? ` eta ${s.etaSeconds}s` : '';
  const waiting = s.waiting ? ` (${s.waiting})` : '';
  return `${s.id} ${s.state} ${s.counts.validated + s.counts.failed}/${s.total} (${pct}%) validated ${s.counts.validated}${s.counts.provisional ? ` (+${s.counts.provisional} provisional)` : ''} failed ${s.counts.failed} ${s.ratePerSecond.toFixed(1)} WU/s${eta}${waiting}`;
}

function bar(s: BatchStatus, width = 30): string {
  const filled = Math.min(width, Math.round(s.progress * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${progressLine(s)}`;
}

async function writeArtifact(c: GridClient, id: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const art = await c.artifact(id);
  const path = join(dir, art.fileName);
  writeFileSync(path, art.bytes);
  return path;
}

/** Streams the results as NDJSON into `out`, honouring backpressure; returns the line count. */
async function writeResults(c: GridClient, id: string, out: NodeJS.WritableStream, after: number, limit?: number): Promise<number> {
  let n = 0;
  for await (const line of c.results(id, after, limit)) {
    n++;
    if (!out.write(JSON.stringify(line) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  return n;
}

/** A spec file: one JSON document, or NDJSON (header line, one input per line) streamed as is. */
async function submitFile(c: GridClient, file: string, opts: SubmitOptions): Promise<{ submitted: Submitted; kind: string }> {
  if (/\.(ndjson|jsonl)$/i.test(file)) {
    // A function, not a stream: a retry reads the file again from its start.
    return { submitted: await c.submitNdjsonText(() => createReadStream(file), opts), kind: headerKind(file) };
  }
  const spec = readSpec(file);
  return { submitted: await c.submit(spec, opts), kind: spec.kind };
}

function readSpec(file: string): BatchSpec {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BatchSpec;
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The kind named on an NDJSON file's first line, for the message (the file may be huge: read only its start). */
function headerKind(file: string): string {
  const buf = Buffer.alloc(64 * 1024);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = buf.subarray(0, readSync(fd, buf)).toString('utf8').split('\n', 1)[0]!;
    return (JSON.parse(head) as { kind?: string }).kind ?? '?';
  } catch {
    return '?'; // the coordinator will say what is wrong with the header, with its line number
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How `swarmgrid wait ID` is written for this batch, to follow it again after Ctrl-C. */
function waitCommand(id: string, v: Record<string, unknown>): string {
  return `swarmgrid wait ${id}${v.out ? ` --out ${v.out as string}` : ''}`;
}

/** What Ctrl-C says, changed as the command goes on; `stop()` restores the default. */
interface Interrupt {
  what: () => string;
  stop(): void;
}

/**
 * Until `stop()`: Ctrl-C (or SIGTERM) says `what()` on stderr and exits 130. Without this a
 * Ctrl-C ended `submit --wait` with nothing said, and the batch id was gone with the screen.
 * One handler for a whole command, its message changed in place: between removing one handler
 * and adding another, a signal would find the default and end the process without a word.
 */
function onInterrupt(what: () => string): Interrupt {
  const on = () => {
    process.stderr.write(`${process.stdout.isTTY ? '\n' : ''}${handle.what()}\n`);
    process.exit(130);
  };
  const handle: Interrupt = {
    what,
    stop: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return handle;
}

/**
 * Follows a batch until it is final (submit --wait, wait): progress, the final line once, the
 * summary, and with --out the artifact and results.ndjson. Exits 0 only if it completed.
 */
async function follow(c: GridClient, id: string, v: Record<string, unknown>, command: string, interrupt: Interrupt): Promise<number> {
  const interval = intOption(v.interval, 'interval', 50) ?? 500;
  interrupt.what = () => `swarmgrid ${command}: stopped following batch ${id}, which goes on running; follow it again with: ${waitCommand(id, v)}`;
  try {
    const tty = !!process.stdout.isTTY;
    let last = 0;
    const final = await c.wait(id, (s) => {
      // On a terminal the bar ends as the final line; otherwise the final line is printed once, below.
      if (tty) process.stdout.write(`\r\x1b[2K${bar(s)}`);
      else if (!FINAL_STATES.has(s.state) && Date.now() - last >= 2000) {
        last = Date.now();
        process.stdout.write(progressLine(s) + '\n');
      }
    }, interval, (err) => {
      process.stderr.write(`${tty ? '\n' : ''}swarmgrid ${command}: ${err.code}: ${err.message}; still waiting for batch ${id}\n`);
    });
    process.stdout.write(tty ? '\n' : `${progressLine(final)}\n`);
    if (final.summary) process.stdout.write(`${final.summary}\n`);
    if (v.out) {
      const dir = v.out as string;
      if (final.artifact) process.stdout.write(`artifact written to ${await writeArtifact(c, id, dir)}\n`);
      mkdirSync(dir, { recursive: true });
      const path = join(dir, 'results.ndjson');
      const out = createWriteStream(path);
      const n = await writeResults(c, id, out, -1);
      out.end();
      await finished(out);
      process.stdout.write(`${n} results written to ${path}\n`);
    }
    return final.state === 'completed' ? 0 : 1;
  } finally {
    interrupt.stop();
  }
}

const followOptions: Record<string, OptionSpec> = {
  out: { type: 'string', value: 'DIR', description: 'wait, then write the artifact and results.ndjson into DIR' },
  interval: { type: 'string', value: 'MS', default: '500', description: 'how often to poll the progress' },
};

/** Said for `--wait` by the commands that do not follow a batch. */
const WAIT_ELSEWHERE = { wait: 'to follow a batch until it is finished: swarmgrid wait ID [--out DIR]' };

export const submit: Command = {
  name: 'submit',
  summary: 'submit a batch spec ({ "kind", "params" | "inputs", "policy" }, or .ndjson)',
  usage: 'swarmgrid submit SPEC.json|SPEC.ndjson [--url URL] [--token TOKEN] [--wait] [--out DIR] [--interval MS] [--idempotency-key KEY] [--dry-run]',
  options: {
    ...clientOptions,
    wait: { type: 'boolean', description: 'follow progress until the batch is finished (exit 0 only if completed)' },
    ...followOptions,
    'idempotency-key': { type: 'string', value: 'KEY', default: 'a new UUID', description: 'sent with every try: a retry, or a rerun with the same KEY, gets the batch already stored' },
    'dry-run': { type: 'boolean', description: 'submit nothing: the coordinator checks the spec and says what it would run (params with defaults, policy, work units)' },
  },
  notes: [
    'SPEC.ndjson: line 1 {"kind", "policy"?, "params"?}, then one input per line; streamed, for batches of any size.',
    'While the coordinator is unreachable, restarting or still storing, submit retries with the same',
    'Idempotency-Key (up to 10 min) and --wait keeps polling: neither makes a second batch or gives up.',
    'Progress is a bar on a terminal and a plain line every 2 s otherwise.',
    'The batch id is printed as soon as the batch is stored; Ctrl-C while waiting leaves the batch',
    'running and says how to follow it again (swarmgrid wait ID).',
  ].join('\n'),
  async run(v, positionals) {
    const file = positionals[0];
    if (!file) throw usageError('a batch spec file is required');
    intOption(v.interval, 'interval', 50); // a bad value is refused before anything is sent
    const c = client(v);
    if (v['dry-run']) {
      if (v.wait || v.out || v['idempotency-key']) throw usageError('--dry-run submits nothing: it takes no --wait, --out or --idempotency-key');
      const p = await c.preview(/\.(ndjson|jsonl)$/i.test(file) ? () => createReadStream(file) : readSpec(file));
      process.stdout.write(`dry run, nothing submitted: ${p.kind}@${p.version}, ${p.total} work units\n`
        + `  params           ${JSON.stringify(p.params)}\n  policy           ${JSON.stringify(p.policy)}\n  first work unit  ${JSON.stringify(p.firstInput)}\n`);
      return 0;
    }
    // Chosen here, not in the client, so that an interrupted submission can say how to get its batch back.
    const key = (v['idempotency-key'] as string | undefined) ?? randomUUID();
    const interrupt = onInterrupt(() => 'swarmgrid submit: interrupted before the coordinator acknowledged the batch. If it was stored, '
      + `this gets it back without a second batch: swarmgrid submit ${file} --idempotency-key ${key}${v.wait ? ' --wait' : ''}${v.out ? ` --out ${v.out as string}` : ''}`);
    let sent;
    try {
      sent = await submitFile(c, file, { idempotencyKey: key });
    } catch (err) {
      interrupt.stop();
      throw err;
    }
    const { submitted: { id, total }, kind } = sent;
    // Said before the id is printed: from then on, Ctrl-C is about following the batch.
    interrupt.what = () => `swarmgrid submit: stopped following batch ${id}, which goes on running; follow it again with: ${waitCommand(id, v)}`;
    process.stdout.write(`submitted batch ${id} (${kind}, ${total} work units)\n`);
    // Nobody connected can run it (no volunteer, or all declined its kind): say so now, not never.
    const first = await c.status(id).catch(() => undefined);
    if (first?.waiting) process.stderr.write(`swarmgrid submit: warning: batch ${id} is ${first.waiting}\n`);
    if (!v.wait && !v.out) {
      interrupt.stop();
      return 0;
    }
    return follow(c, id, v, 'submit', interrupt);
  },
};

export const wait: Command = {
  name: 'wait',
  aliases: ['watch'],
  summary: 'follow a batch until it is finished, as submit --wait does (also: watch)',
  usage: 'swarmgrid wait ID [--out DIR] [--interval MS] [--url URL] [--token TOKEN]',
  options: { ...clientOptions, ...followOptions },
  notes: 'Exits 0 if the batch completed, 1 if it failed or was cancelled. Ctrl-C stops following, not the batch.',
  async run(v, positionals) {
    const id = positionals[0];
    if (!id) throw usageError('a batch id is required: swarmgrid wait ID (swarmgrid status lists the batches)');
    intOption(v.interval, 'interval', 50);
    const c = client(v);
    return follow(c, id, v, 'wait', onInterrupt(() => `swarmgrid wait: stopped following batch ${id}`));
  },
};

export const status: Command = {
  name: 'status',
  summary: 'show one batch, or list batches',
  usage: 'swarmgrid status [ID] [--url URL] [--token TOKEN] [--json] [--limit N]',
  elsewhere: WAIT_ELSEWHERE,
  options: {
    ...clientOptions,
    json: { type: 'boolean', description: 'print the raw JSON, one batch per line' },
    limit: { type: 'string', value: 'N', default: '100', description: 'without ID: list at most N batches' },
  },
  async run(v, positionals) {
    const c = client(v);
    const limit = intOption(v.limit, 'limit', 1, 1000);
    const list = positionals[0] ? [await c.status(positionals[0])] : await c.list(limit !== undefined ? { limit } : {});
    for (const s of list) process.stdout.write((v.json ? JSON.stringify(s) : progressLine(s) + (s.summary ? `\n  ${s.summary}` : '')) + '\n');
  },
};

export const results: Command = {
  name: 'results',
  summary: 'stream the results of a batch as NDJSON, in work-unit order',
  usage: 'swarmgrid results ID [-o FILE] [--after SEQ] [--limit N] [--artifact DIR] [--url URL] [--token TOKEN]',
  elsewhere: WAIT_ELSEWHERE,
  options: {
    ...clientOptions,
    output: { type: 'string', short: 'o', value: 'FILE', default: 'stdout', description: 'write the NDJSON here' },
    after: { type: 'string', value: 'SEQ', default: '-1', description: 'resume after this work unit' },
    limit: { type: 'string', value: 'N', description: 'at most N lines' },
    artifact: { type: 'string', value: 'DIR', description: 'also write the reduced artifact into DIR' },
  },
  notes: 'The stream ends at the first work unit not decided yet: resume later with --after LAST_SEQ.',
  async run(v, positionals) {
    const id = positionals[0];
    if (!id) throw usageError('a batch id is required');
    const after = intOption(v.after, 'after', -1) ?? -1;
    const limit = intOption(v.limit, 'limit', 1);
    const c = client(v);
    const out = v.output ? createWriteStream(v.output as string) : process.stdout;
    const n = await writeResults(c, id, out, after, limit);
    if (v.output) {
      out.end();
      await finished(out);
      process.stderr.write(`${n} results written to ${v.output as string}\n`);
    }
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
