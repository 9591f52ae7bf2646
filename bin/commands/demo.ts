/**
 * The local demo (`npm start`): a DHT bootstrap on 127.0.0.1, a coordinator, two worker child
 * processes, and a π batch cross-checked with replication 2. Prints the estimate and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  usage: 'swarmgrid demo [--work-units N] [--samples N] [--workers N]',
  options: {
    'work-units': { type: 'string', value: 'N', default: '1000', description: 'work units of the π batch' },
    samples: { type: 'string', value: 'N', default: '200000', description: 'Monte Carlo samples per work unit' },
    workers: { type: 'string', value: 'N', default: '2', description: 'worker processes' },
    threads: { type: 'string', value: 'N', default: '1', description: 'threads per worker' },
  },
  async run(v) {
    const units = intOption(v['work-units'], 'work-units', 1) ?? 1000;
    const samples = intOption(v.samples, 'samples', 1) ?? 200_000;
    const workerCount = intOption(v.workers, 'workers', 2, 16) ?? 2;
    const threads = intOption(v.threads, 'threads', 1, 64) ?? 1;
    const dataDir = mkdtempSync(join(tmpdir(), 'swarmgrid-demo-'));
    const say = (s: string) => process.stdout.write(s + '\n');
    const workers: ChildProcess[] = [];
    const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
    let coordinator: Coordinator | undefined;
    try {
      say(`DHT bootstrap on 127.0.0.1:${dht.port}`);
      coordinator = await Coordinator.start({
        dataDir, grid: 'demo', bootstrap: [{ host: '127.0.0.1', port: dht.port }], httpPort: 0, httpHost: '127.0.0.1',
      });
      say(`coordinator ${coordinator.publicKey.slice(0, 16)}… HTTP API ${coordinator.httpUrl} (docs at ${coordinator.httpUrl}/docs)`);
      for (let i = 0; i < workerCount; i++) {
        const child = spawn(process.execPath, [CLI, 'worker', '--grid', 'demo', '--bootstrap', `127.0.0.1:${dht.port}`, '--threads', String(threads), '--json'], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        workers.push(child);
      }
      say(`${workerCount} worker processes with ${threads} thread(s) each`);
      const client = new GridClient({ url: coordinator.httpUrl!, token: createToken(coordinator.store, 'demo') });
      const started = Date.now();
      const { id } = await client.submit({ kind: 'pi', params: { workUnits: units, samplesPerUnit: samples, seed: 1 }, policy: { replication: 2, quorum: 2 } });
      say(`batch ${id}: π by Monte Carlo, ${units} work units × ${samples.toLocaleString('en-US')} samples, each computed by 2 workers and cross-checked`);
      const tty = process.stdout.isTTY;
      let lastPrint = 0;
      const final = await client.wait(id, (s) => {
        const line = `  ${(s.progress * 100).toFixed(0).padStart(3)}%  ${s.counts.validated}/${s.total} validated, ${s.tasksIssued} tasks, ${s.ratePerSecond.toFixed(0)} WU/s`;
        if (tty) process.stdout.write(`\r\x1b[2K${line}`);
        else if (Date.now() - lastPrint > 1000) { lastPrint = Date.now(); say(line); }
      }, 200);
      if (tty) process.stdout.write('\n');
      const seconds = (Date.now() - started) / 1000;
      const workersSeen = (await client.workers()).length;
      say(`${final.state}: ${final.counts.validated} work units validated by ${workersSeen} workers in ${seconds.toFixed(1)} s (${(final.counts.validated / seconds).toFixed(0)} WU/s)`);
      say(final.summary ?? '(no summary)');
      return final.state === 'completed' ? 0 : 1;
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
      await coordinator?.close();
      await dht.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
