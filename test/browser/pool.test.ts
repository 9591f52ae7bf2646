/**
 * The browser volunteer's pool of task Web Workers (browser-worker/pool.ts) in Chromium: each
 * worker runs one task with the next waiting inside it (task-queue.ts), so that the next starts
 * without a round trip to the agent's worker. What queueing must not break: cancelling a waiting
 * task leaves the running one to finish (its worker is not ended), and a time limit counts from
 * the task's own start, not from when it was queued. The pool and the built task-worker bundle
 * are served from a bare local page: the pool alone, no coordinator.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { getBuiltinKind } from '../../jobs/registry.js';
import { hasChromium, INSTALL_HINT, launchChromium } from './chromium.js';

if (!hasChromium) console.warn(INSTALL_HINT);

const root = join(import.meta.dirname, '..', '..');
/** pi's largest task: about 0.7 s on an idle core of the 2-core development machine. */
const LONG = 100_000_000;
const SHORT = 100_000;

interface Ran {
  ok: boolean;
  errorCode?: string;
  wallMs: number;
  /** pi's output, decoded. */
  output?: { samples: number; inside: number };
}

/** pi's output for (seed 1, stream), as a node worker computes it. */
function expected(stream: number, samples: number): { samples: number; inside: number } {
  return getBuiltinKind('pi')!.run({ seed: 1, stream, samples }) as { samples: number; inside: number };
}

describe.skipIf(!hasChromium)('the pool of task Web Workers, a task queued in each', () => {
  let browser: Browser;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const harness = await build({
      stdin: {
        contents: `import { WorkerPool } from './browser-worker/pool.ts';
          import { encodeInput } from './jobs/codec.ts';
          // Counts the task workers the pool starts (one ended by a cancel or a timeout is replaced).
          let spawned = 0;
          const BaseWorker = Worker;
          globalThis.Worker = class extends BaseWorker { constructor(...args) { super(...args); spawned++; } };
          globalThis.harness = {
            spawned: () => spawned,
            pool: (size) => new WorkerPool({ size, scriptUrl: '/task-worker.js' }),
            pi: (stream, samples) => encodeInput({ seed: 1, stream, samples }),
            summary: (o) => ({ ok: o.ok, errorCode: o.errorCode, wallMs: o.wallMs, output: o.ok ? JSON.parse(new TextDecoder().decode(o.output)) : undefined }),
          };`,
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const files: Record<string, string> = {
      '/': '<!doctype html><title>pool</title>',
      '/harness.js': harness.outputFiles[0]!.text,
      '/task-worker.js': readFileSync(join(root, 'dist', 'public', 'task-worker.js'), 'utf8'),
    };
    server = createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (body === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  async function page(): Promise<Page> {
    const p = await (await browser.newContext()).newPage();
    await p.goto(`${url}/`);
    await p.addScriptTag({ url: '/harness.js' });
    return p;
  }

  it('a cancelled task waiting behind a running one is withdrawn: the running one finishes on the same worker, and the worker runs the next', async () => {
    const p = await page();
    const r = await p.evaluate<{ inFlight: number; a: Ran; b: Ran; c: Ran; spawned: number }>(`(async () => {
      const { pool, pi, summary, spawned } = globalThis.harness;
      const p = pool(1);
      const a = new AbortController(), b = new AbortController(), c = new AbortController();
      const ra = p.run({ kind: 'pi', input: pi(0, ${LONG}), timeoutMs: 0, signal: a.signal });
      const rb = p.run({ kind: 'pi', input: pi(1, ${SHORT}), timeoutMs: 0, signal: b.signal });
      const inFlight = p.inFlight;
      await new Promise((r) => setTimeout(r, 200));
      b.abort();
      const [oa, ob] = await Promise.all([ra, rb]);
      const oc = await p.run({ kind: 'pi', input: pi(2, ${SHORT}), timeoutMs: 0, signal: c.signal });
      p.close();
      return { inFlight, a: summary(oa), b: summary(ob), c: summary(oc), spawned: spawned() };
    })()`);
    console.log(`pool cancel: running task ${r.a.wallMs.toFixed(0)} ms, the cancel came at 200 ms`);
    expect(r.inFlight).toBe(2);
    expect(r.a.wallMs, 'the cancel came while the first task ran').toBeGreaterThan(200);
    expect(r.a).toMatchObject({ ok: true, output: expected(0, LONG) });
    expect(r.b).toMatchObject({ ok: false, errorCode: 'aborted' });
    expect(r.c).toMatchObject({ ok: true, output: expected(2, SHORT) });
    // The running task's worker was never ended: one worker from start to end.
    expect(r.spawned).toBe(1);
  }, 60_000);

  it("a time limit counts from the task's own start, not from when it was queued; a task past its own ends its worker, and the one waiting behind it runs on the next", async () => {
    const p = await page();
    const r = await p.evaluate<{ a: Ran; b: Ran; c: Ran; d: Ran; spawnedBefore: number; spawned: number }>(`(async () => {
      const { pool, pi, summary, spawned } = globalThis.harness;
      const p = pool(1);
      const run = (stream, samples, timeoutMs) => p.run({ kind: 'pi', input: pi(stream, samples), timeoutMs, signal: new AbortController().signal });
      // b waits behind a for longer than its limit, and takes far less than it once started.
      const [oa, ob] = await Promise.all([run(0, ${LONG}, 0), run(1, ${SHORT}, 300)]);
      const spawnedBefore = spawned();
      // c runs past its own limit; d waits behind it (its limit counts the new worker's start-up too).
      const [oc, od] = await Promise.all([run(2, ${LONG}, 250), run(3, ${SHORT}, 10000)]);
      p.close();
      return { a: summary(oa), b: summary(ob), c: summary(oc), d: summary(od), spawnedBefore, spawned: spawned() };
    })()`);
    console.log(`pool timeout: a ${r.a.wallMs.toFixed(0)} ms, b ${r.b.wallMs.toFixed(0)} ms (limit 300), c ${r.c.wallMs.toFixed(0)} ms (limit 250), d ${r.d.wallMs.toFixed(0)} ms`);
    expect(r.a.wallMs, 'b waited longer than its limit').toBeGreaterThan(300);
    expect(r.a).toMatchObject({ ok: true, output: expected(0, LONG) });
    expect(r.b).toMatchObject({ ok: true, output: expected(1, SHORT) });
    expect(r.spawnedBefore).toBe(1);
    expect(r.c).toMatchObject({ ok: false, errorCode: 'timeout' });
    expect(r.d).toMatchObject({ ok: true, output: expected(3, SHORT) });
    expect(r.spawned, 'the timed-out task ended its worker, which was replaced').toBe(2);
  }, 60_000);
});
