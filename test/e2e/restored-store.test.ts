/**
 * Task identity survives a restore (issue 12, case 9), with real processes: the coordinator's
 * --data is copied, the coordinator issues tasks to a worker, is killed, the copy is restored
 * and the coordinator restarted, and a new batch is submitted at once while the worker is still
 * computing the lost copy's tasks. No unit of the new batch may be validated with the output of
 * a task the lost copy issued (before the fix: the restored store issued the same ids again, the
 * worker took them for the tasks it held and answered with the old outputs).
 */
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, eventually, type GridProcess, TestGrid } from '../helpers/grid.js';
import { addKind, client, runBatch, tasks } from '../worker/helpers.js';

const SLOW_ECHO = fileURLToPath(new URL('../fixtures/slow-echo-kind.mjs', import.meta.url));
const once = { replication: 1, quorum: 1 };

describe('a coordinator restored from an older copy of --data', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;
  let worker: GridProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
    addKind(coord.dataDir, SLOW_ECHO);
    worker = await grid.worker({ threads: 1, args: ['--trust', coord.key] });
  });
  afterAll(() => grid.close());

  it('never issues a task id again, so no unit of a new batch is validated with another task\'s output', async () => {
    const warm = await runBatch(coord, { kind: 'slow-echo', inputs: [{ i: 1 }, { i: 2 }, { i: 3 }], policy: once });
    expect(warm.state).toBe('completed');

    // The backup: a copy of --data taken while the coordinator is stopped.
    const dataDir = coord.dataDir;
    const backup = grid.tempDir('swarmgrid-backup-');
    await coord.stop();
    cpSync(dataDir, backup, { recursive: true });

    // The copy that will be lost: it issues two slow tasks to the worker, then dies.
    coord = await grid.coordinator({ dataDir });
    const lost = await client(coord).submit({ kind: 'slow-echo', inputs: [{ i: 101, ms: 12_000 }, { i: 102, ms: 12_000 }], policy: once });
    const lostTasks = await eventually(() => {
      const t = tasks(coord, lost.id).filter((x) => x.state === 'leased');
      return t.length >= 2 ? t : undefined;
    }, 60_000, 50);
    await new Promise((r) => setTimeout(r, 500)); // the Assign reaches the worker
    await coord.stop('SIGKILL');

    // Restore the backup and restart on it; a new batch right away.
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(backup, dataDir, { recursive: true });
    coord = await grid.coordinator({ dataDir });
    const inputs = Array.from({ length: 6 }, (_, i) => ({ i, ms: 0 }));
    const { id } = await client(coord).submit({ kind: 'slow-echo', inputs, policy: once });
    const api = client(coord);
    await eventually(async () => (await api.status(id)).state === 'completed', 90_000, 250);

    const lostIds = new Set(lostTasks.map((t) => t.id));
    const reused = tasks(coord, id).filter((t) => lostIds.has(t.id));
    const lines: { seq: number; output: { i: number } }[] = [];
    for await (const line of api.results(id)) lines.push(line as never);
    const wrong = lines.filter((l) => l.output.i !== l.seq);
    console.log(`restored store: lost copy's task ids ${[...lostIds].join(', ')}; reused in the new batch: ${reused.length}; units validated with another task's output: ${wrong.length}`);
    expect(lines).toHaveLength(6);
    expect(wrong).toEqual([]);
    expect(reused).toEqual([]);
  }, 180_000);
});
