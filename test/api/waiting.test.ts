/**
 * A batch no volunteer will run says so (issue 14, item 3): its status carries the reason and
 * who is connected (`waiting`, `volunteers`), `swarmgrid status` prints it, and `swarmgrid submit`
 * warns at once when no connected volunteer can run the kind: none connected, or all of them
 * declined it (a custom kind nobody --trusts). Real coordinator, worker and CLI processes.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { addKind, client, COLLATZ } from '../worker/helpers.js';

interface Run { code: number; stdout: string; stderr: string }

const grid = new TestGrid();
let coord: CoordinatorProcess;
let dir: string;
let coordinatorKey: string;

function cli(args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWARMGRID_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...clean, SWARMGRID_URL: coord.url, SWARMGRID_TOKEN: coord.token }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function spec(name: string, body: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(body));
  return file;
}

const rep1 = { replication: 1, quorum: 1 };

beforeAll(async () => {
  await grid.start();
  dir = grid.tempDir('swarmgrid-waiting-');
  const data = grid.tempDir('swarmgrid-coord-');
  coordinatorKey = addKind(data, COLLATZ).coordinator;
  coord = await grid.coordinator({ dataDir: data });
});
afterAll(() => grid.close());

describe('a batch nobody can run', () => {
  it('no volunteer connected: submit warns, the status says so and counts nobody', async () => {
    const run = await cli(['submit', spec('pi.json', { kind: 'pi', params: { workUnits: 4, samplesPerUnit: 1000, seed: 1 }, policy: rep1 })]);
    expect(run.code).toBe(0);
    const id = /^submitted batch ([0-9a-f]{16})/m.exec(run.stdout)![1]!;
    expect(run.stderr).toBe(`swarmgrid submit: warning: batch ${id} is waiting for volunteers: none is connected to run pi@2.0.0 (volunteers join with swarmgrid worker --grid and --bootstrap of this coordinator, or open its page)\n`);
    const s = await client(coord).status(id);
    expect(s.state).toBe('running');
    expect(s.volunteers).toEqual({ connected: 0, able: 0, declinedBy: 0, networks: 0 });
    const status = await cli(['status', id]);
    expect(status.stdout).toContain('(waiting for volunteers: none is connected to run pi@2.0.0');
  });

  it('a custom kind the only volunteer does not trust: submit warns with the count and the --trust hint; the status keeps saying why after the decline', async () => {
    const worker = await grid.worker();
    const workerKey = (await worker.waitFor('worker-started')).key as string;
    await coord.waitFor('worker-joined', (e) => e.worker === workerKey);
    const run = await cli(['submit', spec('collatz.json', { kind: 'collatz', params: { from: 1, to: 2000 }, policy: rep1 })]);
    expect(run.code).toBe(0);
    const id = /^submitted batch ([0-9a-f]{16})/m.exec(run.stdout)![1]!;
    expect(run.stderr).toMatch(new RegExp(`^swarmgrid submit: warning: batch ${id} is waiting for volunteers: none of the 1 connected can run collatz@1\\.0\\.0: 1 declined it \\(GRID_ERR_UNTRUSTED_CODE: .*--trust ${coordinatorKey}\\)+\\n$`));
    // Once the worker really declined, the reason is its own words, from the declines table.
    await coord.waitFor('kind-declined', (e) => e.worker === workerKey && e.kind === 'collatz');
    const s = await eventually(async () => {
      const st = await client(coord).status(id);
      return st.waiting?.includes('untrusted coordinator') ? st : undefined;
    });
    expect(s.volunteers).toEqual({ connected: 1, able: 0, declinedBy: 1, networks: 0 });
    expect(s.waiting).toContain(`--trust ${coordinatorKey}`);
    expect(s.counts.validated).toBe(0);

    // The same volunteer runs built-in kinds: such a batch is not waiting, and submit says nothing.
    const pi = await cli(['submit', spec('pi2.json', { kind: 'pi', params: { workUnits: 2, samplesPerUnit: 1000, seed: 2 }, policy: rep1 })]);
    expect(pi.stderr).toBe('');
    const piId = /^submitted batch ([0-9a-f]{16})/m.exec(pi.stdout)![1]!;
    const done = await eventually(async () => {
      const st = await client(coord).status(piId);
      return st.state === 'completed' ? st : undefined;
    }, 60_000);
    expect(done.waiting).toBeNull();
    expect(done.volunteers).toBeNull();
    const earlier = await client(coord).status(id);
    expect(earlier.waiting).toMatch(/1 declined it/);
  });
});
