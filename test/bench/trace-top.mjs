#!/usr/bin/env node
// Where Chromium's threads spend their time, from a trace file (Chromium's --trace-startup, see
// browser-vs-node.mjs): per thread, its top-level tasks' thread time summed by what posted them
// (toplevel's src_func / src_file) and the busiest event names nested in them.
//
//   node test/bench/trace-top.mjs /tmp/t.json [thread name filter, default CrRendererMain]
import { readFileSync } from 'node:fs';

const [file, filter = 'CrRendererMain'] = process.argv.slice(2);
const raw = JSON.parse(readFileSync(file, 'utf8'));
const events = Array.isArray(raw) ? raw : raw.traceEvents;
const names = new Map();
for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}/${e.tid}`, e.args.name);

const byThread = new Map();
for (const e of events) {
  const key = `${e.pid}/${e.tid}`;
  const name = names.get(key) ?? '?';
  if (!name.includes(filter)) continue;
  if (!byThread.has(key)) byThread.set(key, []);
  byThread.get(key).push(e);
}

for (const [key, list] of byThread) {
  // Complete events, and begin/end pairs turned into complete ones.
  const spans = [];
  const open = [];
  for (const e of list.sort((a, b) => a.ts - b.ts)) {
    if (e.ph === 'X') spans.push({ name: e.name, ts: e.ts, dur: e.dur ?? 0, tdur: e.tdur ?? e.dur ?? 0, args: e.args ?? {} });
    else if (e.ph === 'B') open.push(e);
    else if (e.ph === 'E') {
      const b = open.pop();
      if (b) spans.push({ name: b.name, ts: b.ts, dur: e.ts - b.ts, tdur: (e.tts ?? 0) - (b.tts ?? 0) || e.ts - b.ts, args: b.args ?? {} });
    }
  }
  spans.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Top level: spans not inside another span of this thread.
  const top = [];
  let end = -Infinity;
  for (const s of spans) if (s.ts >= end) { top.push(s); end = s.ts + s.dur; }
  const total = top.reduce((a, s) => a + s.tdur, 0);
  console.log(`${names.get(key)} ${key}: ${top.length} top-level tasks, ${(total / 1000).toFixed(0)} ms thread time`);
  const sum = (items, keyOf) => {
    const m = new Map();
    for (const s of items) {
      const k = keyOf(s);
      const v = m.get(k) ?? { n: 0, t: 0 };
      v.n++;
      v.t += s.tdur;
      m.set(k, v);
    }
    return [...m].sort((a, b) => b[1].t - a[1].t).slice(0, 15);
  };
  console.log('  by poster:');
  for (const [k, v] of sum(top, (s) => `${s.name} ${s.args.src_func ?? ''} ${s.args.src_file ?? ''}`)) console.log(`    ${(v.t / 1000).toFixed(1).padStart(8)} ms ${String(v.n).padStart(6)}×  ${k}`);
  console.log('  all events by name (nested included):');
  for (const [k, v] of sum(spans, (s) => s.name)) console.log(`    ${(v.t / 1000).toFixed(1).padStart(8)} ms ${String(v.n).padStart(6)}×  ${k}`);
}
