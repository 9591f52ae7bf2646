#!/usr/bin/env node
// `npm run bench`: every benchmark of BENCHMARKS.md in one run, each section in its own process
// (so one section's heap, JIT state and leftovers never colour the next), then a table on stdout
// and the results block of BENCHMARKS.md rewritten. Setup first: Redis (apt-get when missing and
// root) and Chromium are checked, and what is missing is reported rather than guessed around.
//   node test/bench/run.mjs [--quick] [--only throughput,efficiency,...] [--no-write]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, log, machine, RESULT_MARK, ROOT } from './lib.mjs';
import { ensureRedisServer } from './redis.mjs';
import { parseBrowserVsNode, renderMarkdown, renderTable, writeBenchmarks } from './report.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'no-write': { type: 'boolean' } } });
const quick = !!values.quick;
const only = values.only ? new Set(values.only.split(',')) : undefined;
const HERE = join(ROOT, 'test', 'bench');

// Task threads run at the normal priority during the benchmarks: the default (nice 19, so that a
// volunteer's own programs always win) would measure how the OS treats a nice-19 thread against
// whatever else runs on this shared machine, not swarmgrid. Raw Piscina gets the same setting.
const env = { ...process.env, SWARMGRID_THREAD_NICE: process.env.SWARMGRID_THREAD_NICE ?? '0' };

const SECTIONS = [
  { name: 'throughput', args: quick ? ['--units', '5000', '--runs', '1'] : ['--units', '20000', '--runs', '3'] },
  { name: 'efficiency', args: quick ? ['--units', '200', '--runs', '1'] : ['--units', '400', '--runs', '7'] },
  { name: 'bullmq', args: quick ? ['--jobs', '5000', '--runs', '1', '--concurrency', '16'] : ['--jobs', '20000', '--runs', '3', '--concurrency', '1,8,64'] },
  { name: 'memory', args: quick ? ['--units', '10000,100000', '--workers', '10'] : ['--units', '100000,1000000', '--workers', '50'] },
  { name: 'storm', args: quick ? ['--volunteers', '50', '--swarm', '20', '--runs', '1'] : ['--volunteers', '200', '--swarm', '200', '--runs', '3'] },
  // The Ising kernel native, in a node worker thread and in a Chromium Web Worker (skips what is missing).
  { name: 'wasm-kernel', args: quick ? ['--runs', '1', '--sweeps', '10000'] : ['--runs', '5'] },
];

function setup() {
  const notes = [];
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run bench does)`);
  const redis = ensureRedisServer();
  notes.push(redis ? `redis-server: ${redis}` : 'redis-server: MISSING (apt-get install -y redis-server failed or not root): BullMQ section skipped');
  for (const pkg of ['bullmq', 'ioredis']) {
    if (!existsSync(join(ROOT, 'node_modules', pkg))) notes.push(`${pkg}: MISSING (npm install): BullMQ section skipped`);
  }
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? installChromium();
  notes.push(chromium ? `chromium: ${chromium}` : 'chromium: MISSING (apt-get install -y chromium failed or not root): browser section skipped');
  return { notes, redis, chromium };
}

function installChromium() {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return undefined;
  log('chromium missing: apt-get install -y chromium');
  try {
    execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    return undefined;
  }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

/** Runs one section script; resolves with its result object (or an error), its stderr streamed. */
function runSection(script, args, nodeArgs = []) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...nodeArgs, join(HERE, script), ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => { out += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 8 * 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (line) resolve({ ...JSON.parse(line.slice(RESULT_MARK.length)), seconds, stdout: out });
      else resolve({ error: `exited with ${code ?? signal} and no result`, seconds, stdout: out });
    });
  });
}

const t0 = Date.now();
const info = { ...machine(), date: new Date().toISOString(), commit: gitCommit(), quick };
log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB, node ${info.node}${quick ? ' (quick mode)' : ''}`);
const { notes, redis, chromium } = setup();
for (const n of notes) log(n);

const results = {};
for (const s of SECTIONS) {
  if (only && !only.has(s.name)) continue;
  if (s.name === 'bullmq' && (!redis || notes.some((n) => n.startsWith('bullmq') || n.startsWith('ioredis')))) {
    results.bullmq = { error: 'skipped: Redis or BullMQ missing (see setup)' };
    continue;
  }
  log(`── ${s.name} ──`);
  const r = await runSection(`${s.name}.mjs`, s.args, s.name === 'memory' ? ['--expose-gc'] : []);
  results[s.name] = r.error ? { error: r.error } : r.results;
  results[s.name].seconds = r.seconds;
}

// 6. Browser vs node: test/bench/browser-vs-node.mjs belongs to the browser worker; we run it and
// read its figures when it is there.
if (!only || only.has('browser')) {
  const script = join(HERE, 'browser-vs-node.mjs');
  if (!existsSync(script)) results.browser = { error: 'gap: test/bench/browser-vs-node.mjs does not exist yet' };
  else if (!chromium) results.browser = { error: 'skipped: Chromium missing (see setup)' };
  else {
    log('── browser vs node ──');
    const r = await runSection('browser-vs-node.mjs', quick ? ['--runs', '1', '--kinds', 'pi,echo'] : ['--runs', '3']);
    results.browser = parseBrowserVsNode(r.stdout) ?? { error: `browser-vs-node.mjs gave no figures (${r.error ?? 'unparsed output'})`, output: r.stdout.slice(-2000) };
    results.browser.seconds = r.seconds;
  }
}

info.totalSeconds = (Date.now() - t0) / 1000;
process.stdout.write(`\n${renderTable(results, info)}\n`);
if (!values['no-write'] && !quick && !only) {
  writeBenchmarks(join(ROOT, 'BENCHMARKS.md'), renderMarkdown(results, info, notes));
  log('BENCHMARKS.md updated');
} else log('BENCHMARKS.md left as it was (quick, --only or --no-write)');
log(`total ${(info.totalSeconds / 60).toFixed(1)} min`);

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return head + (dirty ? ' (uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
}
