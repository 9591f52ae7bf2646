#!/usr/bin/env node
// Tasks per second per core: the browser volunteer (Chromium, Web Workers) against the node
// worker (Piscina), on the same job kind and work-unit size, through a real local grid.
//
//   npm run build && node test/bench/browser-vs-node.mjs [--units 60] [--samples 1000000] [--threads 1]
//
// Each runtime gets a batch of its own (replication 1) with the other one absent. Two figures each:
//   end to end = tasks / (last result − first issue), from the coordinator's records, per core;
//   kernel     = 1000 / mean task cpu_ms as the volunteer reported it (Node 20 and browsers both
//                report wall time of a busy thread), per core: the job code alone.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const { values: opts } = parseArgs({ options: { units: { type: 'string', default: '60' }, samples: { type: 'string', default: '1000000' }, threads: { type: 'string', default: '1' } } });
const units = Number(opts.units);
const samples = Number(opts.samples);
const threads = Number(opts.threads);
if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM}: apt-get update && apt-get install -y chromium`);
  process.exit(1);
}

const { startBootstrap } = await import(join(DIST, 'proto/discovery.js'));
const { Coordinator } = await import(join(DIST, 'coordinator/coordinator.js'));
const grid = `bench-browser-${process.pid}`;
const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
const dataDir = mkdtempSync(join(tmpdir(), 'swarmgrid-bench-'));
const joined = [];
const coordinator = await Coordinator.start({
  dataDir, grid, bootstrap: [{ host: '127.0.0.1', port: dht.port }], httpPort: 0,
  networks: { independence: 'identity' }, // one machine: a local grid
  log: (event, fields) => { if (event === 'worker-joined') joined.push(fields); },
});

async function until(pred, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs one batch on whoever is connected and measures it from the coordinator's records. */
async function measure(runtime) {
  const id = await coordinator.batches.create({ kind: 'pi', params: { workUnits: units, samplesPerUnit: samples }, policy: { replication: 1, quorum: 1 }, owner: 'bench' });
  await until(() => ['completed', 'failed', 'cancelled'].includes(coordinator.store.getBatch(id)?.state), 300_000);
  const db = new Database(join(dataDir, 'coordinator.sqlite'), { readonly: true });
  const rows = db.prepare(`SELECT t.runtime, t.issued_at, t.finished_at, t.cpu_ms FROM tasks t JOIN work_units w ON w.id = t.wu_id
    WHERE w.batch_id = ? AND t.state = 'valid'`).all(id);
  db.close();
  if (rows.some((r) => r.runtime !== runtime)) throw new Error(`a ${runtime} batch ran elsewhere`);
  const span = (Math.max(...rows.map((r) => r.finished_at)) - Math.min(...rows.map((r) => r.issued_at))) / 1000;
  const meanCpu = rows.reduce((a, r) => a + r.cpu_ms, 0) / rows.length;
  return { tasks: rows.length, endToEnd: rows.length / span / threads, kernel: 1000 / meanCpu, meanCpuMs: meanCpu };
}

const results = {};
try {
  // Node worker.
  const worker = spawn(process.execPath, [join(DIST, 'bin/swarmgrid.js'), 'worker', '--grid', grid, '--bootstrap', `127.0.0.1:${dht.port}`, '--threads', String(threads), '--json'], { stdio: 'ignore' });
  await until(() => joined.some((j) => j.runtime === 'node'));
  results.node = await measure('node');
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));

  // Browser volunteer.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${coordinator.httpUrl}/?threads=${threads}`);
    await until(() => joined.some((j) => j.runtime === 'browser'));
    results.browser = await measure('browser');
  } finally {
    await browser.close();
  }
} finally {
  await coordinator.close();
  await dht.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}

const f = (x) => x.toFixed(2).padStart(7);
console.log(`pi, ${units} work units × ${samples.toLocaleString('en-US')} samples, ${threads} thread(s), replication 1`);
console.log('runtime   end-to-end tasks/s/core   kernel tasks/s/core   mean task ms');
for (const [name, r] of Object.entries(results)) console.log(`${name.padEnd(9)} ${f(r.endToEnd)}                 ${f(r.kernel)}               ${r.meanCpuMs.toFixed(1)}`);
console.log(`browser / node: end to end ${(results.browser.endToEnd / results.node.endToEnd).toFixed(2)}, kernel ${(results.browser.kernel / results.node.kernel).toFixed(2)}`);
