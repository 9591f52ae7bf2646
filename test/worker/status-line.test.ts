/**
 * The status line `swarmgrid worker` draws on a terminal (issue 14, item 11), on a real pseudo-
 * terminal (util-linux `script`) against a real coordinator: below the banner, never glued to it;
 * what it is computing and how fast; CPU given counting the tasks' CPU only (0.0 s before any task,
 * though starting the process took CPU).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { CLI, type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;
beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
});
afterAll(() => grid.close());

describe('swarmgrid worker on a terminal', () => {
  it('prints the banner, then one status line: kinds, tasks/min, and the CPU its tasks took', async () => {
    const command = `"${process.execPath}" "${CLI}" worker --grid ${grid.grid} --bootstrap ${grid.bootstrap} --threads 1`;
    // detached: its own process group, so that script, the worker and its threads go together.
    const term = spawn('script', ['-qec', command, '/dev/null'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    term.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    /** The latest status line drawn. */
    const status = () => out.split('\r\x1b[2K').at(-1) ?? '';
    try {
      await eventually(() => / coordinators 1/.test(status()), 60_000);
      // The banner has its own line; the status line is drawn below it.
      expect(out).toMatch(/^swarmgrid worker [0-9a-f]{64} with 1 thread\(s\)\r?\n\r\x1b\[2K/);
      expect(out).not.toMatch(/ sswarmgrid worker/);
      // No task yet: nothing given, though the process has used CPU to start and to connect.
      expect(status()).toMatch(/^waiting for work \| 0\.0 tasks\/min \| tasks done 0 \| CPU given 0\.0 s \| coordinators 1$/);

      const client = new GridClient({ url: coord.url, token: coord.token });
      const { id } = await client.submit({ kind: 'pi', params: { workUnits: 12, samplesPerUnit: 4_000_000 }, policy: { replication: 1, quorum: 1 } });
      await eventually(() => /^working on pi \|/.test(status()), 60_000);
      expect((await client.wait(id, undefined, 200)).state).toBe('completed');
      await eventually(() => / tasks done 12 /.test(status()), 10_000);
      const line = status();
      const [, perMin, cpu] = /\| ([\d.]+) tasks\/min \| tasks done 12 \| CPU given ([\d.]+) s/.exec(line)!;
      expect(Number(perMin)).toBeGreaterThan(0);
      // 48 million darts take CPU: some of it, at least, is counted.
      expect(Number(cpu)).toBeGreaterThan(0);
      console.log(`worker status after 12 pi units: ${line}`);
    } finally {
      try {
        process.kill(-term.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 180_000);
});
