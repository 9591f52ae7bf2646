#!/usr/bin/env node
// The Ising kernel (examples/wasm/ising) three ways: native (gcc -O2, the same C), WebAssembly in a
// node worker thread, and WebAssembly in a Chromium Web Worker. Targets: WASM in node within 1.3×
// of native, browser WASM ≥ 0.8× node WASM.
//
//   node test/bench/wasm-kernel.mjs [--runs 5] [--sweeps 40000]
//
// One work unit, T = 2.2 (near Tc: ~15 % of flips accepted, the branchy regime), L = 64. Every
// repetition runs the three back to back, the order rotating, so that all see the same machine
// load. Two figures per run: wall time, and CPU time of the one thread that ran the kernel
// (native: the child's user + system time from /proc/self/stat once reaped; node: the worker
// thread's /proc/thread-self/schedstat; Chromium: the busiest DedicatedWorker thread's
// /proc/PID/task/TID/schedstat). On this shared machine wall time is noisy; CPU time is the
// kernel's own. Ratios are medians of the per-repetition ratios.
//
// The WASM side runs the committed examples/wasm/ising/ising.wasm, compiled once per thread and
// instantiated afresh per run (as a task is), after one short warm-up run (V8 optimises a hot
// function for its next call). In the node thread it runs twice per repetition: through the
// grid's own runtime (dist/jobs/wasm-run.js: the WASI shim, canonical input on stdin, argv of the
// ABI), the figure against native; and through wasm-glue.mjs, the few-line WASI glue the browser
// side uses too, the figure against the browser (a comparison of engines, not of WASI layers).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { chromium } from 'playwright-core';
import { emit, log, removeDir, ROOT, summary, tempDir } from './lib.mjs';
import { runWasiCommand } from './wasm-glue.mjs';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '5' }, sweeps: { type: 'string', default: '40000' } } });
const runs = Number(opts.runs);
const INPUT = { L: 64, T: 2.2, bins: 20, seed: 1, sweeps: Number(opts.sweeps), therm: 0 };
const WARMUP_INPUT = { ...INPUT, seed: 2, sweeps: 1000 };
// argv of the ABI: key=value in sorted key order (INPUT's keys are sorted).
const argv = (input) => Object.entries(input).map(([k, v]) => `${k}=${v}`);
const ARGS = argv(INPUT);
const WARMUP = argv(WARMUP_INPUT);
const WASM = join(ROOT, 'examples', 'wasm', 'ising', 'ising.wasm');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const TICK_NS = 1e9 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const canonical = (text) => {
  const v = JSON.parse(text);
  return JSON.stringify(Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])));
};

// ---- native ----
const dir = tempDir('swarmgrid-wasm-bench-');
let native;
try {
  execFileSync('gcc', ['-O2', '-ffp-contract=off', '-o', join(dir, 'ising'), join(ROOT, 'examples', 'wasm', 'ising', 'ising.c'), '-lm'], { stdio: 'pipe' });
  native = join(dir, 'ising');
} catch (e) {
  log(`gcc failed or missing (${e.message.split('\n')[0]}): native side skipped`);
}

/** CPU of reaped children of this process, ns (/proc/self/stat cutime + cstime, clock ticks). */
function childrenCpuNs() {
  const f = readFileSync('/proc/self/stat', 'utf8').slice(readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_NS; // fields 16 and 17 of stat(5)
}

function runNative(args) {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuNs();
    const t0 = performance.now();
    const child = spawn(native, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => { out += c; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`native exited ${code}`));
      resolve({ wallMs: performance.now() - t0, cpuMs: (childrenCpuNs() - cpu0) / 1e6, stdout: out });
    });
  });
}

// ---- node worker thread ----
const nodeThread = new Worker(new URL('./wasm-kernel-thread.mjs', import.meta.url), { workerData: { wasm: WASM, dist: join(ROOT, 'dist') } });
let nextId = 0;
const pending = new Map();
nodeThread.on('message', (m) => { pending.get(m.id)?.(m); pending.delete(m.id); });
/** via 'grid': the grid's own WASM runtime (dist/jobs/wasm-run.js, the WASI shim a node worker
 * uses); via 'glue': wasm-glue.mjs, the same glue as the browser side. */
function runNodeVia(via, args, input) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    nodeThread.postMessage({ id, via, args, input });
  });
}
const runNode = (args, input) => runNodeVia('grid', args, input);
const runNodeGlue = (args, input) => runNodeVia('glue', args, input);

// ---- Chromium Web Worker ----
let browser;
let page;
function chromiumThreads() {
  const out = new Map();
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')) continue;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        if (!name.startsWith('DedicatedWorker')) continue;
        out.set(`${pid}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      }
    } catch { /* gone */ }
  }
  return out;
}
async function startBrowser() {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  page = await (await browser.newContext()).newPage();
  await page.goto('about:blank');
  const glue = readFileSync(new URL('./wasm-glue.mjs', import.meta.url), 'utf8').replace(/^export /gm, '');
  // The worker: the glue, a compiled module kept for every run, one message per run.
  const workerSource = `${glue}
    let mod;
    onmessage = async (e) => {
      try {
        if (e.data.bytes) { mod = await WebAssembly.compile(e.data.bytes); postMessage({ ready: true }); return; }
        const t0 = performance.now();
        const r = await runWasiCommand(mod, ['ising', ...e.data.args]);
        postMessage({ wallMs: performance.now() - t0, ...r });
      } catch (err) { postMessage({ error: String(err) }); }
    };`;
  await page.evaluate(async ({ src, bytes }) => {
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    globalThis.benchWorker = w;
    globalThis.benchRun = (msg) => new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage(msg); });
    await globalThis.benchRun({ bytes: new Uint8Array(bytes) });
  }, { src: workerSource, bytes: [...readFileSync(WASM)] });
}
async function runBrowser(args) {
  const before = chromiumThreads();
  const r = await page.evaluate((a) => globalThis.benchRun({ args: a }), args);
  if (r.error) throw new Error(r.error);
  const after = chromiumThreads();
  let busiest = 0;
  for (const [k, ns] of after) busiest = Math.max(busiest, ns - (before.get(k) ?? 0));
  return { wallMs: r.wallMs, cpuMs: busiest / 1e6, stdout: r.stdout };
}

const sides = { native: native ? runNative : undefined, node: runNode, nodeGlue: runNodeGlue, browser: undefined };
try {
  if (CHROMIUM) {
    await startBrowser();
    sides.browser = runBrowser;
  } else log('no Chromium: browser side skipped');
  const names = Object.keys(sides).filter((k) => sides[k]);
  for (const n of names) await sides[n](WARMUP, WARMUP_INPUT); // compile, tier up
  const res = Object.fromEntries(names.map((n) => [n, []]));
  for (let rep = 0; rep < runs; rep++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(rep + i) % names.length];
      res[n].push(await sides[n](ARGS, INPUT));
    }
    // The grid canonicalises JSON output (keys sorted): compare the values.
    const outs = new Set(names.map((n) => canonical(res[n].at(-1).stdout)));
    if (outs.size !== 1) throw new Error(`the runs printed different outputs: ${[...outs].join(' | ')}`);
    log(`#${rep + 1}: ${names.map((n) => `${n} ${res[n].at(-1).wallMs.toFixed(0)} ms wall, ${res[n].at(-1).cpuMs.toFixed(0)} ms CPU`).join('; ')}`);
  }
  const fig = (n) => res[n] && { wallMs: summary(res[n].map((r) => r.wallMs)), cpuMs: summary(res[n].map((r) => r.cpuMs)) };
  const ratio = (a, b, k) => res[a] && res[b] && summary(res[a].map((r, i) => r[k] / res[b][i][k]));
  const results = {
    runs, args: ARGS.join(' '),
    native: fig('native'), node: fig('node'), nodeGlue: fig('nodeGlue'), browser: fig('browser'),
    // WASM in node (the grid's runtime) / native (time ratio: ≤ 1.3 is the target).
    nodeOverNative: { wall: ratio('node', 'native', 'wallMs'), cpu: ratio('node', 'native', 'cpuMs') },
    // browser / node as rates (node time / browser time: ≥ 0.8 is the target), same glue both sides.
    browserOverNode: { wall: ratio('nodeGlue', 'browser', 'wallMs'), cpu: ratio('nodeGlue', 'browser', 'cpuMs') },
  };
  const f = (s) => (s ? `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})` : 'n/a');
  console.log(`ising ${ARGS.join(' ')}, ${runs} interleaved runs; medians (min–max)`);
  for (const n of names) console.log(`${n.padEnd(9)} wall ${f(results[n].wallMs)} ms, CPU ${f(results[n].cpuMs)} ms`);
  console.log(`node WASM (grid runtime) / native: wall ${f(results.nodeOverNative.wall)}, CPU ${f(results.nodeOverNative.cpu)} (target ≤ 1.3)`);
  console.log(`browser / node WASM (same glue; rate): wall ${f(results.browserOverNode.wall)}, CPU ${f(results.browserOverNode.cpu)} (target ≥ 0.8)`);
  emit({ results });
} finally {
  await nodeThread.terminate();
  await browser?.close();
  removeDir(dir);
}
