/**
 * The local demo (`npm start`): a DHT bootstrap on 127.0.0.1, a coordinator, two worker child
 * processes, a π batch and a Mandelbrot batch, both cross-checked with replication 2. Prints the
 * estimate, writes the image, and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { createToken } from '../../coordinator/http/auth.js';
import { startBootstrap } from '../../proto/discovery.js';
import { type Command, intOption } from '../cli.js';

const CLI = fileURLToPath(new URL('../swarmgrid.js', import.meta.url));

export const demo: Command = {
  name: 'demo',
  summary: 'run a whole grid on this machine and compute something',
  usage: 'swarmgrid demo [--work-units N] [--samples N] [--workers N] [--threads N] [--out DIR] [--no-mandelbrot]',
  options: {
    'work-units': { type: 'string', value: 'N', default: '1000', description: 'work units of the π batch' },
    samples: { type: 'string', value: 'N', default: '200000', description: 'Monte Carlo samples per work unit' },
    workers: { type: 'string', value: 'N', default: '2', description: 'worker processes' },
    threads: { type: 'string', value: 'N', default: '1', description: 'threads per worker' },
    out: { type: 'string', value: 'DIR', default: './swarmgrid-demo', description: 'where the Mandelbrot PNG and π estimate are written' },
    'no-mandelbrot': { type: 'boolean', description: 'run the π batch only' },
  },
  async run(v) {
    const units = intOption(v['work-units'], 'work-units', 1) ?? 1000;
    const samples = intOption(v.samples, 'samples', 1) ?? 200_000;
    const workerCount = intOption(v.workers, 'workers', 2, 16) ?? 2;
    const threads = intOption(v.threads, 'threads', 1, 64) ?? 1;
    const dataDir = mkdtempSync(join(tmpdir(), 'swarmgrid-demo-'));
    const say = (s: string) => process.stdout.write(s + '\n');
    const workers: ChildProcess[] = [];
    // However the demo ends (piped into `head`, Ctrl-C, an error): its workers end with it.
    const stopWorkers = () => {
      for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    };
    process.once('exit', stopWorkers);
    const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
    let coordinator: Coordinator | undefined;
    try {
      say(`DHT bootstrap on 127.0.0.1:${dht.port}`);
      coordinator = await Coordinator.start({
        dataDir, grid: 'demo', bootstrap: [{ host: '127.0.0.1', port: dht.port }], httpPort: 0, httpHost: '127.0.0.1',
        // Every volunteer of the demo runs on this machine: a local grid, where identities count
        // as independent. A public coordinator never does this (docs/SECURITY.md).
        networks: { independence: 'identity' },
      });
      say('local grid: every volunteer identity counts as independent (like swarmgrid coordinator --local-grid)');
      say(`coordinator ${coordinator.publicKey.slice(0, 16)}… HTTP API ${coordinator.httpUrl} (docs at ${coordinator.httpUrl}/docs)`);
      for (let i = 0; i < workerCount; i++) {
        const child = spawn(process.execPath, [CLI, 'worker', '--grid', 'demo', '--bootstrap', `127.0.0.1:${dht.port}`, '--threads', String(threads), '--json'], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        workers.push(child);
      }
      say(`${workerCount} worker processes with ${threads} thread(s) each`);
      const client = new GridClient({ url: coordinator.httpUrl!, token: createToken(coordinator.store, 'demo') });
      say(`volunteer page: open ${coordinator.httpUrl}/ in a browser to add its cores to this grid`);
      const out = resolve((v.out as string | undefined) ?? './swarmgrid-demo');
      mkdirSync(out, { recursive: true });
      const policy = { replication: 2, quorum: 2 };
      const started = Date.now();
      const pi = await client.submit({ kind: 'pi', params: { workUnits: units, samplesPerUnit: samples, seed: 1 }, policy });
      say(`batch ${pi.id}: π by Monte Carlo, ${units} work units × ${samples.toLocaleString('en-US')} samples, each computed by 2 workers and cross-checked`);
      const mandel = v['no-mandelbrot'] ? undefined : await client.submit({
        kind: 'mandelbrot',
        params: { centerX: -0.743644786, centerY: 0.1318252536, width: 0.0012, pixelsWide: 640, pixelsHigh: 480, maxIter: 1500, tileSize: 80 },
        policy,
      });
      if (mandel) say(`batch ${mandel.id}: Mandelbrot 640×480 in ${mandel.total} tiles, each rendered by 2 workers and compared byte for byte`);
      const tty = process.stdout.isTTY;
      let lastPrint = 0;
      const progress = async () => {
        const ids = [pi.id, ...(mandel ? [mandel.id] : [])];
        for (;;) {
          const all = await Promise.all(ids.map((id) => client.status(id)));
          const line = all.map((s) => `${s.kind} ${(s.progress * 100).toFixed(0).padStart(3)}% (${s.counts.validated}/${s.total})`).join('   ');
          if (tty) process.stdout.write(`\r\x1b[2K  ${line}`);
          else if (Date.now() - lastPrint > 1000) { lastPrint = Date.now(); say(`  ${line}`); }
          if (all.every((s) => ['completed', 'failed', 'cancelled'].includes(s.state))) return all;
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const finals = await progress();
      if (tty) process.stdout.write('\n');
      const seconds = (Date.now() - started) / 1000;
      const workersSeen = (await client.workers()).length;
      const units2 = finals.reduce((n, s) => n + s.counts.validated, 0);
      say(`${units2} work units validated by ${workersSeen} workers in ${seconds.toFixed(1)} s (${(units2 / seconds).toFixed(0)} WU/s)`);
      for (const s of finals) {
        say(`${s.kind}: ${s.state}. ${s.summary ?? ''}`);
        if (s.artifact) {
          const art = await client.artifact(s.id);
          const path = join(out, art.fileName);
          writeFileSync(path, art.bytes);
          say(`  → ${path}`);
        }
      }
      return finals.every((s) => s.state === 'completed') ? 0 : 1;
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
      await coordinator?.close();
      await dht.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
