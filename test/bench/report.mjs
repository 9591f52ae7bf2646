// The table `npm run bench` prints and the results block it writes into BENCHMARKS.md (between
// the two markers; everything else in that file is hand-written and left alone).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { RESULT_MARK } from './lib.mjs';

export const BEGIN = '<!-- bench:results:begin (written by npm run bench) -->';
export const END = '<!-- bench:results:end -->';

const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const fix = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
/** median (min–max) of a summary, through `f`. */
const spread = (s, f = int) => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : 'n/a');

const THROUGHPUT_LABELS = {
  'r1-1w': 'echo, replication 1, 1 worker process',
  'r1-2w': 'echo, replication 1, 2 worker processes',
  'r2-2w': 'echo, replication 2 (quorum 2), 2 worker processes',
};

/** Rows of [section, what, result, against the target]. */
export function rows(results) {
  const out = [];
  const err = (section, r) => out.push([section, r.error, '', '']);
  const t = results.throughput;
  if (t?.error) err('1 throughput', t);
  else if (t) {
    for (const [key, r] of Object.entries(t)) {
      if (key === 'seconds') continue;
      out.push(['1 throughput', `${THROUGHPUT_LABELS[key] ?? key}, ${int(r.units)} WU`, `${spread(r.wuPerSec)} WU/s`,
        `${int(r.tasksPerSec.median)} tasks/s; coordinator ${fix(r.cpuUsPerTask.median, 1)} µs CPU/task, worker ${fix(r.workerCpuUsPerTask.median, 1)} µs CPU/task; ${fix(r.tasksPerCommit.median, 0)} tasks/commit`]);
    }
  }
  const e = results.efficiency;
  if (e?.error) err('2 efficiency', e);
  else if (e) {
    out.push(['2 efficiency', `pi, ${int(e.units)} tasks × ${fix(e.taskMs, 1)} ms, ${e.threads} threads: grid ${int(e.gridMs.median)} ms, raw Piscina ${int(e.rawMs.median)} ms`,
      `wall ratio ${spread(e.ratio, (x) => fix(x, 3))}`, `target ≤ 1.03: ${e.ratio.median <= 1.03 ? 'met' : 'MISSED'}; CPU ratio ${fix(e.cpuRatio.median, 3)}`]);
  }
  const b = results.bullmq;
  if (b?.error) err('3 BullMQ', b);
  else if (b) {
    const best = b.bullmq[b.bestConcurrency];
    const others = Object.entries(b.bullmq).map(([c, s]) => `c${c} ${int(s.median)}`).join(', ');
    out.push(['3 BullMQ', `echo ${int(b.jobs)} jobs over each one's client protocol, ${b.workers} worker processes, results read back: swarmgrid ${int(b.swarmgrid.median)} jobs/s, BullMQ ${int(best.median)} jobs/s (concurrency ${b.bestConcurrency}; ${others})`,
      `swarmgrid / BullMQ ${spread(b.ratio, (x) => `${fix(x)}×`)}`,
      `target ≥ 2×: ${b.ratio.median >= 2 ? 'met' : 'MISSED'}; up to the last job done, before reading back: swarmgrid ${int(b.swarmgridProcessed?.median)}, BullMQ ${int(b.bullmqProcessed?.[b.bestConcurrency]?.median)} jobs/s, ${b.processedRatio ? `${fix(b.processedRatio.median)}×` : 'n/a'}; ${b.redis}`]);
  }
  const m = results.memory;
  if (m?.error) err('4 memory', m);
  else if (m) {
    out.push(['4 memory', 'coordinator RSS with queued work units (no worker)', m.queued.map((q) => `${int(q.units)}: ${fix(q.rssMiB, 0)} MiB`).join(', '), '']);
    for (const [tr, w] of Object.entries(m.perWorker)) {
      const held = (w.heapPerWorkerKiB ?? 0) + (w.externalPerWorkerKiB ?? 0);
      out.push(['4 memory', `memory per connected worker, ${w.workers} over ${tr}, on a fresh coordinator`, `${int(held)} KiB (JS heap + external)`, `JS heap ${int(w.heapPerWorkerKiB)} KiB + external ${int(w.externalPerWorkerKiB)} KiB; RSS ${int(w.perWorkerKiB)} KiB (RSS moves in coarse steps); errors ${w.errors ?? m.errors}`]);
    }
  }
  const s = results.storm;
  if (s?.error) err('5 connect storm', s);
  else if (s) {
    for (const [tr, r] of Object.entries(s)) {
      if (tr === 'seconds') continue;
      out.push(['5 connect storm', `${r.volunteers} volunteers over ${tr} at once: time until every one holds a task`, `${spread(r.allMs)} ms`, `median volunteer ${int(r.p50Ms.median)} ms; errors ${r.errors}${r.errors ? ' (MUST be 0)' : ''}`]);
    }
  }
  const br = results.browser;
  if (br?.error) err('6 browser vs node', br);
  else if (br?.kinds) {
    for (const [kind, r] of Object.entries(br.kinds)) {
      out.push(['6 browser vs node', `${kind}: tasks/s per core, ${r.tasks} tasks, ${br.threads} thread(s), ${br.runs} interleaved runs`,
        `browser ${spread(r.browser.endToEnd, (x) => fix(x, 1))} / node ${spread(r.node.endToEnd, (x) => fix(x, 1))} end to end`,
        `browser/node ${spread(r.ratioEndToEnd, fix)} end to end${kind === 'pi' ? ' (target ≥ 0.8)' : ''}, ${spread(r.ratioCpu, fix)} by kernel-thread CPU per task${r.ratioAllCpu ? `, ${spread(r.ratioAllCpu, fix)} by all threads' CPU per task (browser ${fix(r.browser.allCpuMsPerTask.median)} ms, node ${fix(r.node.allCpuMsPerTask.median)} ms)` : ''}`]);
    }
  }
  const w = results['wasm-kernel'];
  if (w?.error) err('7 WASM kernel', w);
  else if (w) {
    const r3 = (x) => fix(x, 3);
    if (w.native) {
      out.push(['7 WASM kernel', `ising (${w.args}) as WebAssembly in a node worker thread (the grid's WASM runtime) vs the same C by gcc -O2: ${int(w.node.cpuMs.median)} / ${int(w.native.cpuMs.median)} ms CPU, ${w.runs} interleaved runs`,
        `node WASM / native ${spread(w.nodeOverNative.cpu, r3)} by thread CPU`,
        `target ≤ 1.3: ${w.nodeOverNative.cpu.median <= 1.3 ? 'met' : 'MISSED'}; wall ${spread(w.nodeOverNative.wall, r3)}`]);
    }
    if (w.browser) {
      out.push(['7 WASM kernel', `the same module in a Chromium Web Worker vs a node worker thread, the same WASI glue in both: ${int(w.browser.cpuMs.median)} / ${int(w.nodeGlue.cpuMs.median)} ms CPU`,
        `browser / node ${spread(w.browserOverNode.cpu, r3)} (rate) by thread CPU`,
        `target ≥ 0.8: ${w.browserOverNode.cpu.median >= 0.8 ? 'met' : 'MISSED'}; wall ${spread(w.browserOverNode.wall, r3)}`]);
    }
  }
  return out;
}

export function renderTable(results, info) {
  const lines = [`swarmgrid benchmarks — ${info.cpu}, ${info.cores} cores, node ${info.node}, ${info.date.slice(0, 16)}Z`];
  for (const [section, what, result, note] of rows(results)) {
    lines.push(`${section.padEnd(18)} ${what}`);
    if (result) lines.push(`${''.padEnd(18)}   → ${result}${note ? `   [${note}]` : ''}`);
  }
  lines.push(`(${(info.totalSeconds / 60).toFixed(1)} min in all)`);
  return lines.join('\n');
}

export function renderMarkdown(results, info, notes) {
  const esc = (x) => String(x).replace(/\|/g, '\\|');
  const table = rows(results).map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
  const secs = Object.entries(results).map(([k, v]) => `${k} ${Math.round(v.seconds ?? 0)} s`).join(', ');
  return [
    BEGIN,
    `Last run: ${info.date.slice(0, 16).replace('T', ' ')} UTC, commit ${info.commit}. Machine: **${info.cpu}**, ${info.cores} cores, ${info.memGiB} GiB, Node ${info.node} (${info.platform}).`,
    `Medians of the runs, (min–max) in brackets. ${(info.totalSeconds / 60).toFixed(1)} min in all (${secs}). Setup: ${notes.join('; ')}.`,
    '',
    '| # | measurement | result | notes |',
    '|---|---|---|---|',
    table,
    END,
  ].join('\n');
}

export function writeBenchmarks(path, block) {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text}\n## Results\n\n${block}\n`;
  writeFileSync(path, next);
}

/** Reads test/bench/browser-vs-node.mjs's figures from its result line. */
export function parseBrowserVsNode(stdout) {
  const marked = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  return marked ? JSON.parse(marked.slice(RESULT_MARK.length)).results : undefined;
}
