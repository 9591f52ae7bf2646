#!/usr/bin/env node
// The browser pool alone (browser-worker/pool.ts in a dedicated worker, as the agent runs it, with
// the built task-worker bundle), no coordinator: how many short π tasks a task worker gets through
// with one task at a time (the next sent when the one before is reported, a round trip between
// the two workers per task) and with the next waiting inside it (task-queue.ts). The two are
// interleaved in one Chromium, so both see the same machine load.
//
//   npm run build && node test/bench/browser-pool.mjs [--runs 5] [--tasks 400] [--samples 1000000]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { DIST, ROOT, log, summary } from './lib.mjs';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '5' }, tasks: { type: 'string', default: '400' }, samples: { type: 'string', default: '1000000' } } });
const runs = Number(opts.runs);
const tasks = Number(opts.tasks);
const samples = Number(opts.samples);

const harness = await build({
  stdin: {
    contents: `import { WorkerPool } from './browser-worker/pool.ts';
      import { encodeInput } from './jobs/codec.ts';
      self.onmessage = async (ev) => {
        const { depth, tasks, samples } = ev.data;
        const pool = new WorkerPool({ size: 1, scriptUrl: '/task-worker.js' });
        const run = (i) => pool.run({ kind: 'pi', input: encodeInput({ seed: 1, stream: i, samples }), timeoutMs: 0, signal: new AbortController().signal });
        for (let i = 0; i < 10; i++) await run(i); // warm-up: the worker started, the kernel compiled
        let sent = 0, done = 0, kernelMs = 0;
        const t0 = performance.now();
        await new Promise((resolve) => {
          const pump = () => {
            while (pool.inFlight < depth && sent < tasks) run(sent++).then((o) => { kernelMs += o.cpuMs; if (++done === tasks) resolve(); else pump(); });
          };
          pump();
        });
        const ms = performance.now() - t0;
        pool.close();
        self.postMessage({ ms, kernelMs });
      };`,
    resolveDir: ROOT,
    loader: 'ts',
  },
  bundle: true, platform: 'browser', format: 'iife', write: false, logLevel: 'silent',
});
const files = {
  '/': '<!doctype html><title>pool bench</title>',
  '/harness-worker.js': harness.outputFiles[0].text,
  '/task-worker.js': readFileSync(join(DIST, 'public', 'task-worker.js'), 'utf8'),
};
const server = createServer((req, res) => {
  const body = files[req.url ?? ''];
  if (body === undefined) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const results = { 1: [], 2: [] };
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const once = (depth) => page.evaluate(({ depth, tasks, samples }) => new Promise((resolve) => {
    const w = new Worker('/harness-worker.js');
    w.onmessage = (ev) => { w.terminate(); resolve(ev.data); };
    w.postMessage({ depth, tasks, samples });
  }), { depth, tasks, samples });
  for (let rep = 0; rep < runs; rep++) {
    for (const depth of rep % 2 ? [2, 1] : [1, 2]) {
      const r = await once(depth);
      results[depth].push({ perSecond: tasks / r.ms * 1000, idleMsPerTask: (r.ms - r.kernelMs) / tasks });
    }
    log(`#${rep + 1}: one at a time ${results[1].at(-1).perSecond.toFixed(1)} tasks/s (${results[1].at(-1).idleMsPerTask.toFixed(2)} ms/task outside the kernel), `
      + `next waiting ${results[2].at(-1).perSecond.toFixed(1)} tasks/s (${results[2].at(-1).idleMsPerTask.toFixed(2)} ms/task)`);
  }
} finally {
  await browser.close();
  server.close();
}
const s = (x, d = 2) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
const ratio = summary(results[2].map((r, i) => r.perSecond / results[1][i].perSecond));
console.log(`pool of 1 task worker, ${tasks} π tasks of ${samples} samples, ${runs} interleaved runs; medians (min–max)`);
console.log(`one at a time: ${s(summary(results[1].map((r) => r.perSecond)), 1)} tasks/s, ${s(summary(results[1].map((r) => r.idleMsPerTask)))} ms/task outside the kernel`);
console.log(`next waiting:  ${s(summary(results[2].map((r) => r.perSecond)), 1)} tasks/s, ${s(summary(results[2].map((r) => r.idleMsPerTask)))} ms/task outside the kernel`);
console.log(`next waiting / one at a time: ${s(ratio)}`);
