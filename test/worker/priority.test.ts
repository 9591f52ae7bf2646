/**
 * Task threads run at the lowest OS priority, and only they do: read each thread's nice value
 * from /proc/<pid>/task/<tid>/stat of a real worker process (Linux only).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type GridProcess, TestGrid } from '../helpers/grid.js';

/** The nice value of one thread: field 19 of its stat line, counting from the pid. */
function niceOf(pid: number, tid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19 - 3]);
  } catch {
    return undefined; // the thread ended between listing and reading
  }
}

function threadNices(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const n = niceOf(pid, tid);
    if (n !== undefined) out.set(tid, n);
  }
  return out;
}

describe.runIf(existsSync('/proc/self/task'))('task thread priority', () => {
  const grid = new TestGrid();
  let worker: GridProcess;

  beforeAll(async () => {
    await grid.start();
    worker = await grid.worker({ threads: 2 });
  });
  afterAll(() => grid.close());

  it('lowers every task thread to nice 19 and leaves the protocol thread alone', async () => {
    const pid = worker.proc.pid!;
    // The pool starts its threads at start-up; each lowers itself as it loads the task module.
    const nices = await eventually(() => {
      const n = threadNices(pid);
      return [...n.values()].filter((v) => v === 19).length >= 2 ? n : undefined;
    }, 10_000);
    expect(nices.get(String(pid))).toBe(0); // the main thread: Hyperswarm, protocol, scheduling
    expect([...nices.values()].filter((v) => v === 19)).toHaveLength(2);
    expect([...nices.values()].filter((v) => v !== 0 && v !== 19)).toEqual([]);
  });
});
