#!/usr/bin/env node
// The browser volunteer (Chromium, Web Workers) against the node worker (Piscina), per core, on
// every built-in job kind, through a real local grid.
//
//   npm run build && node test/bench/browser-vs-node.mjs [--runs 3] [--kinds pi,primes,...] [--threads 1]
//
// Runs are interleaved: for each kind and each repetition, one batch on a node worker and one on
// a Chromium tab (the order alternating), each with the other runtime absent, so both see the
// same machine load. Three figures per run:
//   end to end   tasks / (last result − first issue) / threads, from the coordinator's records;
//   thread CPU   CPU time of the thread(s) that ran the kernel, per task, read from
//                /proc/PID/task/TID/schedstat (the busiest "DedicatedWorker" threads in
//                Chromium; the busiest threads of the node worker process, its Piscina threads):
//                the job code and its runtime, without the protocol and without wall-clock noise;
//   all CPU      CPU time of every thread of the runtime per task: for node the worker process,
//                for Chromium every process this benchmark launched (browser, renderer, GPU,
//                network): what the volunteer's machine pays, protocol and page included.
// Reported per kind: medians with (min–max) ranges, and browser/node as the median of the per-
// repetition ratios (each ratio from two runs measured back to back). BENCH_THREADS=1 also logs
// each run's eight busiest threads, with Chromium's process type (where the CPU went besides the kernel).
// BENCH_CHROMIUM_ARGS adds Chromium flags, BENCH_LINGER_MS keeps it that long after the batch: e.g.
// a startup trace of where the renderer's threads spend their time, read by trace-top.mjs:
//   BENCH_CHROMIUM_ARGS='--trace-startup=toplevel,ipc,mojom --trace-startup-duration=12 --trace-startup-file=/tmp/t.json'
//   BENCH_LINGER_MS=8000 node test/bench/browser-vs-node.mjs --runs 1 --kinds pi; node test/bench/trace-top.mjs /tmp/t.json
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { emit, log, summary } from './lib.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

/** Per kind: batch params giving tasks of a few to a few tens of ms, the range where per-task costs show. */
const KINDS = {
  pi: { workUnits: 400, samplesPerUnit: 1_000_000 },
  primes: { from: 0, to: 60_000_000, unitSize: 1_000_000 },
  mandelbrot: { pixelsWide: 640, pixelsHigh: 480, tileSize: 80, maxIter: 2000 },
  'ode-sweep': { betaSteps: 10, gammaSteps: 8, pointsPerUnit: 2 },
  'hp-fold': { sequence: 'HPHPPHHPHPPHPHHPPHPH', prefixLength: 4 },
  echo: { workUnits: 3000, payloadBytes: 100 },
};

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '3' }, kinds: { type: 'string', default: Object.keys(KINDS).join(',') }, threads: { type: 'string', default: '1' } } });
const runs = Number(opts.runs);
const threads = Number(opts.threads);
const kinds = opts.kinds.split(',');
for (const k of kinds) if (!KINDS[k]) throw new Error(`unknown kind ${k}; known: ${Object.keys(KINDS).join(', ')}`);
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
  log: (event, fields) => { if (event === 'worker-joined' || event === 'worker-left') joined.push({ event, ...fields }); },
});
const db = new Database(join(dataDir, 'coordinator.sqlite'), { readonly: true });

async function until(pred, timeoutMs = 60_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** CPU ns per thread of the given processes: Map(tid → ns), with each thread's name. */
function threadCpu(pids) {
  const out = new Map();
  for (const pid of pids) {
    let tids;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited
    }
    let type = '';
    try {
      // Chromium's process type (renderer, gpu-process, utility; none for the browser process).
      type = /--type=([\w-]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1] ?? '';
    } catch { /* exited */ }
    for (const tid of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out.set(`${pid}/${tid}`, { ns, name, type });
      } catch { /* thread ended */ }
    }
  }
  return out;
}

function delta(before, after) {
  const d = [];
  for (const [key, { ns, name, type }] of after) d.push({ key, name, type, ns: ns - (before.get(key)?.ns ?? 0) });
  return d;
}

/**
 * Chromium's processes: this benchmark's own descendants (the Chromium it launched, its
 * renderers, GPU and utility processes). Not every process named chromium: on a shared machine
 * other people's browsers run too.
 */
function chromiumPids() {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch { /* gone */ }
  }
  const pids = [];
  const todo = [process.pid];
  while (todo.length > 0) {
    for (const child of children.get(todo.pop()) ?? []) {
      pids.push(child);
      todo.push(child);
    }
  }
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium');
    } catch {
      return false;
    }
  });
}

/**
 * Waits until the runtime's start-up is over: its processes together use less than a tenth of a
 * core over 300 ms (at most 15 s). A fresh Chromium keeps starting after the page connects: it
 * preloads the omnibox popup's WebUI (chrome://omnibox-popup.top-chrome) in a renderer of its own,
 * about 1 s of CPU that a trace of an earlier run put in the batch, and that a volunteer's
 * long-running browser paid long ago.
 */
async function settle(pids) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const before = threadCpu(pids());
    await new Promise((r) => setTimeout(r, 300));
    const ns = delta(before, threadCpu(pids())).reduce((a, t) => a + Math.max(0, t.ns), 0);
    if (ns < 30e6 || Date.now() > deadline) return;
  }
}

/** Submits one batch of `kind` and measures it on whoever is connected. */
async function runBatch(kind, runtime, pids) {
  const before = threadCpu(pids());
  const id = await coordinator.batches.create({ kind, params: KINDS[kind], policy: { replication: 1, quorum: 1 }, owner: 'bench' });
  await until(() => ['completed', 'failed', 'cancelled'].includes(coordinator.store.getBatch(id)?.state), 600_000, `${kind} batch`);
  const after = threadCpu(pids());
  const state = coordinator.store.getBatch(id).state;
  if (state !== 'completed') throw new Error(`${kind} batch ended ${state}`);
  const rows = db.prepare(`SELECT t.runtime, t.issued_at, t.finished_at FROM tasks t JOIN work_units w ON w.id = t.wu_id
    WHERE w.batch_id = ? AND t.state = 'valid'`).all(id);
  if (rows.some((r) => r.runtime !== runtime)) throw new Error(`a ${runtime} batch ran elsewhere`);
  const span = (Math.max(...rows.map((r) => r.finished_at)) - Math.min(...rows.map((r) => r.issued_at))) / 1000;
  const d = delta(before, after);
  // The kernel's threads: the `threads` busiest of the Web Workers' threads (Chromium names each
  // "DedicatedWorker"; the agent's own worker is one of them, and busy mostly with the protocol)
  // and of a node worker's threads (Piscina's carry no name of their own).
  const kernel = d.filter((t) => runtime === 'node' || t.name.startsWith('DedicatedWorker'))
    .sort((a, b) => b.ns - a.ns).slice(0, threads);
  const kernelNs = kernel.reduce((a, t) => a + t.ns, 0);
  if (process.env.BENCH_THREADS) {
    const top = [...d].sort((a, b) => b.ns - a.ns).slice(0, 8);
    log(`${runtime} ${kind}: busiest threads over ${span.toFixed(2)} s: ${top.map((t) => `${t.type ? `${t.type}:` : ''}${t.name} ${(t.ns / 1e6).toFixed(0)} ms`).join(', ')}`);
  }
  // Everything the runtime spent: the kernel, the protocol, and for Chromium its browser, renderer,
  // GPU and network processes. Less moved than the end-to-end rate by other people's load.
  const allNs = d.reduce((a, t) => a + t.ns, 0);
  return { tasks: rows.length, endToEnd: rows.length / span / threads, cpuMsPerTask: kernelNs / 1e6 / rows.length, allCpuMsPerTask: allNs / 1e6 / rows.length };
}

/**
 * Both runtimes start in a session of their own (`detached`): Linux's autogroup scheduling
 * (`/proc/sys/kernel/sched_autogroup_enabled`, on by default) shares the CPU between sessions
 * first, equally. Chromium always started that way; the node worker used to share the session of
 * this process (the coordinator's), so on a machine loaded by other sessions a browser run had
 * two sessions' shares (coordinator, Chromium) and a node run one. (That alone does not explain
 * why the browser comes out ahead under load: at a load of 11–17 it still did, 1.0–1.8 end to
 * end, with the kernels at parity. Measure on a quiet machine.)
 */
async function nodeRun(kind) {
  const worker = spawn(process.execPath, [join(DIST, 'bin/swarmgrid.js'), 'worker', '--grid', grid, '--bootstrap', `127.0.0.1:${dht.port}`,
    '--threads', String(threads), '--json'], { stdio: 'ignore', detached: true, env: { ...process.env, SWARMGRID_THREAD_NICE: process.env.SWARMGRID_THREAD_NICE ?? '0' } });
  try {
    const seen = joined.length;
    await until(() => joined.slice(seen).some((j) => j.event === 'worker-joined' && j.runtime === 'node'), 60_000, 'node worker');
    await settle(() => [worker.pid]);
    return await runBatch(kind, 'node', () => [worker.pid]);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => (worker.exitCode !== null ? r() : worker.once('exit', r)));
  }
}

/**
 * A fresh headless Chromium started on the page's URL, with no DevTools client attached, as a
 * volunteer runs it: driven by Playwright, which enables DevTools domains (network events for
 * every WebSocket frame, runtime events in every worker), Chromium spent about 1 ms of CPU more per
 * π task, mostly in its browser process's main and IO threads (A/B, 4 interleaved runs).
 */
const extraChromiumArgs = (process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean);
const lingerMs = Number(process.env.BENCH_LINGER_MS ?? 0);

async function browserRun(kind) {
  const profile = mkdtempSync(join(tmpdir(), 'swarmgrid-bench-chromium-'));
  const seen = joined.length;
  const proc = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-quic', '--disable-sync', `--user-data-dir=${profile}`, ...extraChromiumArgs, `${coordinator.httpUrl}/?threads=${threads}`], { stdio: 'ignore', detached: true });
  try {
    await until(() => joined.slice(seen).some((j) => j.event === 'worker-joined' && j.runtime === 'browser'), 60_000, 'browser volunteer');
    await settle(chromiumPids);
    return await runBatch(kind, 'browser', chromiumPids);
  } finally {
    // A startup trace (BENCH_CHROMIUM_ARGS=--trace-startup=…) is written when its duration ends.
    if (lingerMs > 0) await new Promise((r) => setTimeout(r, lingerMs));
    const kill = (signal) => {
      try {
        process.kill(-proc.pid, signal); // its whole process group: renderers, GPU, utilities
      } catch { /* gone */ }
    };
    kill('SIGTERM');
    const hard = setTimeout(() => kill('SIGKILL'), 10_000);
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', r)));
    clearTimeout(hard);
    // Its socket is closed and its leases handed back before the next run starts.
    await new Promise((r) => setTimeout(r, 300));
    rmSync(profile, { recursive: true, force: true });
  }
}

const results = {};
try {
  for (const kind of kinds) {
    const node = [];
    const web = [];
    for (let rep = 0; rep < runs; rep++) {
      // Alternate which runtime goes first, so drift in the machine's load falls on both.
      if (rep % 2 === 0) {
        node.push(await nodeRun(kind));
        web.push(await browserRun(kind));
      } else {
        web.push(await browserRun(kind));
        node.push(await nodeRun(kind));
      }
      log(`${kind} #${rep + 1}: node ${node.at(-1).endToEnd.toFixed(1)} tasks/s, ${node.at(-1).cpuMsPerTask.toFixed(2)} ms CPU/task; `
        + `browser ${web.at(-1).endToEnd.toFixed(1)} tasks/s, ${web.at(-1).cpuMsPerTask.toFixed(2)} ms CPU/task`);
    }
    results[kind] = {
      tasks: node[0].tasks,
      node: { endToEnd: summary(node.map((r) => r.endToEnd)), cpuMsPerTask: summary(node.map((r) => r.cpuMsPerTask)), allCpuMsPerTask: summary(node.map((r) => r.allCpuMsPerTask)) },
      browser: { endToEnd: summary(web.map((r) => r.endToEnd)), cpuMsPerTask: summary(web.map((r) => r.cpuMsPerTask)), allCpuMsPerTask: summary(web.map((r) => r.allCpuMsPerTask)) },
      // browser/node, both as rates: > 1 means the browser is faster.
      ratioEndToEnd: summary(web.map((r, i) => r.endToEnd / node[i].endToEnd)),
      ratioCpu: summary(web.map((r, i) => node[i].cpuMsPerTask / r.cpuMsPerTask)),
      ratioAllCpu: summary(web.map((r, i) => node[i].allCpuMsPerTask / r.allCpuMsPerTask)),
    };
  }
} finally {
  db.close();
  await coordinator.close();
  await dht.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}

const f = (x, d = 2) => x.toFixed(d);
const s = (x, d = 2) => `${f(x.median, d)} (${f(x.min, d)}–${f(x.max, d)})`;
console.log(`browser vs node, ${threads} thread(s) each, ${runs} interleaved run(s) per kind, replication 1; medians (min–max)`);
console.log('kind        tasks  node tasks/s/core    browser tasks/s/core  node CPU ms/task   browser CPU ms/task  node all CPU ms/task  browser all CPU ms/task  browser/node end to end  browser/node kernel CPU  browser/node all CPU');
for (const [kind, r] of Object.entries(results)) {
  console.log(`${kind.padEnd(11)} ${String(r.tasks).padStart(5)}  ${s(r.node.endToEnd, 1).padEnd(20)} ${s(r.browser.endToEnd, 1).padEnd(21)} ${s(r.node.cpuMsPerTask).padEnd(18)} `
    + `${s(r.browser.cpuMsPerTask).padEnd(20)} ${s(r.node.allCpuMsPerTask).padEnd(21)} ${s(r.browser.allCpuMsPerTask).padEnd(24)} ${s(r.ratioEndToEnd).padEnd(24)} ${s(r.ratioCpu).padEnd(24)} ${s(r.ratioAllCpu)}`);
}
emit({ results: { threads, runs, kinds: results } });
