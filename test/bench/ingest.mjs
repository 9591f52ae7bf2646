#!/usr/bin/env node
// Ingest benchmark (run by hand after `npm run build`; prints figures, asserts nothing):
//
//   node test/bench/ingest.mjs [--units 1000000] [--payload 0] [--workers 1] [--json]
//
// A real coordinator process on a private DHT takes one batch of N echo work units as an NDJSON
// POST, while one worker process (1 thread) is connected. Measured: the coordinator's peak RSS
// (VmHWM from /proc/PID/status, sampled RSS too), the insert rate (units stored per second, from
// the POST's start to its 201), the time from the POST's start to the first task dispatched
// (from /metrics), and how much had been stored by then: dispatch must start long before the
// upload ends. The batch is cancelled afterwards; the worker only proves dispatch meanwhile.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const CLI = join(DIST, 'bin', 'swarmgrid.js');
const { GridClient } = await import(join(DIST, 'coordinator', 'index.js'));
const { startBootstrap } = await import(join(DIST, 'proto', 'discovery.js'));

const { values: args } = parseArgs({
  options: {
    units: { type: 'string', default: '1000000' },
    payload: { type: 'string', default: '0' },
    workers: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const UNITS = Number(args.units);
const PAYLOAD = Number(args.payload);
const WORKERS = Number(args.workers);

/** Starts a CLI process whose stdout is JSON log lines; `until(event)` resolves on the first match. */
function start(cliArgs) {
  const proc = spawn(process.execPath, [CLI, ...cliArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events = [];
  const waiters = [];
  let carry = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk) => {
    carry += chunk;
    for (let nl = carry.indexOf('\n'); nl >= 0; nl = carry.indexOf('\n')) {
      const line = carry.slice(0, nl);
      carry = carry.slice(nl + 1);
      let e;
      try { e = JSON.parse(line); } catch { continue; }
      events.push(e);
      for (const w of waiters.splice(0)) (w.event === e.event ? w.resolve(e) : waiters.push(w));
    }
  });
  const until = (event) => new Promise((resolve) => {
    const seen = events.find((e) => e.event === event);
    if (seen) resolve(seen);
    else waiters.push({ event, resolve });
  });
  return { proc, until };
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { issued: get('swarmgrid_tasks_issued_total'), ingested: get('swarmgrid_work_units_ingested_total'), validated: get('swarmgrid_work_units_validated_total') };
}

/** The NDJSON body in ~64 KiB strings, generated as fetch pulls it. */
async function* body(units, payload) {
  const pad = payload > 0 ? ',"payload":"' + 'x'.repeat(payload) + '"' : '';
  let piece = JSON.stringify({ kind: 'echo', policy: { replication: 1, quorum: 1 } }) + '\n';
  for (let i = 0; i < units; i++) {
    piece += `{"value":${i}${pad}}\n`;
    if (piece.length >= 65536) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}

const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
const bootstrap = `127.0.0.1:${dht.port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'swarmgrid-ingest-'));
const grid = `ingest-${process.pid}`;
const procs = [];
try {
  const token = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', dataDir], { encoding: 'utf8' }).trim();
  const coord = start(['coordinator', '--data', dataDir, '--grid', grid, '--bootstrap', bootstrap, '--http-port', '0', '--json', '--local-grid']);
  procs.push(coord.proc);
  const ready = await coord.until('coordinator-ready');
  const pid = coord.proc.pid;
  for (let i = 0; i < WORKERS; i++) {
    const w = start(['worker', '--grid', grid, '--bootstrap', bootstrap, '--threads', '1', '--json']);
    procs.push(w.proc);
    await w.until('coordinator-joined');
  }
  const client = new GridClient({ url: ready.http, token });
  const baseline = memory(pid);

  let peakSampled = baseline.rss;
  const sampler = setInterval(() => { peakSampled = Math.max(peakSampled, memory(pid).rss); }, 50);
  const t0 = performance.now();
  let firstDispatch = null;
  const progress = [];
  let posting = true;
  const poller = (async () => {
    while (posting) {
      const m = await metrics(ready.http).catch(() => null);
      const ms = performance.now() - t0;
      if (m) {
        progress.push({ ms, ...m });
        if (firstDispatch === null && m.issued > 0) firstDispatch = { ms, ingested: m.ingested };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const { id, total } = await client.submitNdjsonText(body(UNITS, PAYLOAD));
  const seconds = (performance.now() - t0) / 1000;
  posting = false;
  await poller;
  clearInterval(sampler);
  const after = memory(pid);
  const end = await metrics(ready.http);
  await client.cancel(id);

  const result = {
    units: total,
    payloadBytes: PAYLOAD,
    workers: WORKERS,
    seconds: Number(seconds.toFixed(2)),
    insertsPerSecond: Math.round(total / seconds),
    rssBaselineMB: Math.round(baseline.rss),
    rssPeakMB: Math.round(Math.max(after.hwm, peakSampled)),
    firstDispatchMs: firstDispatch ? Math.round(firstDispatch.ms) : null,
    storedAtFirstDispatch: firstDispatch?.ingested ?? null,
    tasksIssuedDuringIngest: end.issued,
    validatedDuringIngest: end.validated,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  };
  if (args.json) console.log(JSON.stringify(result));
  else {
    console.log(`ingest of ${total.toLocaleString('en-US')} work units as NDJSON (${result.machine})`);
    console.log(`  time                 ${result.seconds} s`);
    console.log(`  insert rate          ${result.insertsPerSecond.toLocaleString('en-US')} units/s`);
    console.log(`  coordinator RSS      ${result.rssBaselineMB} MB before, ${result.rssPeakMB} MB peak (VmHWM)`);
    console.log(`  first dispatch       ${result.firstDispatchMs} ms after the POST began, ${result.storedAtFirstDispatch} units stored by then`);
    console.log(`  during the upload    ${result.tasksIssuedDuringIngest} tasks issued, ${result.validatedDuringIngest} units validated`);
  }
} finally {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', r)))));
  await dht.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
