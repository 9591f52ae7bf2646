/**
 * The worker's default memory ceiling follows its memory cgroup (issue 12, case 5): half of the
 * host's RAM, or of the cgroup's limit when that is lower (`process.constrainedMemory()`), so
 * that in a container the worker's own guard stops a task that fills memory (out_of_memory)
 * before the kernel kills the whole worker (exit 137). The real check runs a worker inside a
 * 600 MiB memory cgroup made for the test; that needs root and a writable cgroup hierarchy
 * (v1 memory controller, or v2 with memory delegated), and is skipped with the reason otherwise.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMaxMemoryMb } from '../../worker/memory-ceiling.js';
import { customKindGrid } from '../helpers/custom-kind-grid.js';
import { fixture, runBatch, tasks } from './helpers.js';

const MiB = 2 ** 20;

describe('default memory ceiling', () => {
  it('is half of the RAM, or of the cgroup limit when that is lower', () => {
    expect(defaultMaxMemoryMb(24 * 1024 * MiB, 600 * MiB)).toBe(300);
    expect(defaultMaxMemoryMb(24 * 1024 * MiB, undefined)).toBe(12 * 1024);
    // What Node reports where there is no limit: 0, or about 2^63.
    expect(defaultMaxMemoryMb(16 * 1024 * MiB, 0)).toBe(8 * 1024);
    expect(defaultMaxMemoryMb(16 * 1024 * MiB, 2 ** 63)).toBe(8 * 1024);
    // A tiny cgroup still leaves the worker something to run in.
    expect(defaultMaxMemoryMb(16 * 1024 * MiB, 64 * MiB)).toBe(64);
  });
});

/** A fresh memory cgroup limited to `bytes`, or why none could be made here. */
function makeCgroup(bytes: number): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to create a memory cgroup' };
  const name = `swarmgrid-test-${process.pid}`;
  const tried: string[] = [];
  // cgroup v1: under this process's own memory cgroup (a container's may be all we can write).
  const own = /^\d+:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const v1 = ['/sys/fs/cgroup/memory' + (own && own !== '/' ? own : ''), '/sys/fs/cgroup/memory'];
  for (const parent of v1) {
    if (!existsSync(join(parent, 'memory.limit_in_bytes'))) continue;
    const dir = join(parent, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
      return { dir };
    } catch (err) {
      tried.push(`${dir}: ${(err as Error).message}`);
      try { rmdirSync(dir); } catch { /* not made */ }
    }
  }
  // cgroup v2, where the memory controller is delegated to the children of the root.
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const ctl = join(root, 'cgroup.subtree_control');
    if (!existsSync(ctl) || !readFileSync(ctl, 'utf8').includes('memory')) continue;
    const dir = join(root, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'memory.max'), String(bytes));
      return { dir };
    } catch (err) {
      tried.push(`${dir}: ${(err as Error).message}`);
      try { rmdirSync(dir); } catch { /* not made */ }
    }
  }
  return { skip: `no writable memory cgroup (${tried.join('; ') || 'no memory controller found'})` };
}

const cgroup = makeCgroup(600 * MiB);
if ('skip' in cgroup) console.warn(`skipping the worker-in-a-cgroup test: ${cgroup.skip}`);

describe.skipIf('skip' in cgroup)('a worker in a 600 MiB memory cgroup, default options', () => {
  const dir = 'dir' in cgroup ? cgroup.dir : '';
  const g = customKindGrid({
    kinds: ['hog-kind.mjs'],
    threads: 1,
    // No --max-memory: the default is what is under test.
    spawnWorker: (grid, coord, env) => grid.spawn(['worker', '--grid', grid.grid, '--bootstrap', grid.bootstrap, '--threads', '1', '--json', '--trust', coord.key],
      { ...env, SWARMGRID_TEST_CGROUP: dir }, fixture('in-cgroup.mjs')),
    // The worker's task processes end within a second of it (their watchdog): until then the
    // cgroup is busy.
    afterClose: async () => {
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if (i >= 50) {
            console.warn(`cgroup ${dir} left behind: ${(err as Error).message}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
  });

  it('takes half of the cgroup limit as its ceiling, not half of the host RAM', async () => {
    expect((await g.worker.waitFor('worker-started')).maxMemoryMb).toBe(300);
  });

  it('stops a task that fills memory with out_of_memory before the kernel kills the worker', async () => {
    const status = await runBatch(g.coord, {
      kind: 'hog',
      params: { units: 3, hogSeqs: '', bufSeqs: '0' },
      policy: { replication: 1, quorum: 1, maxErrors: 1, memoryMb: 64, timeout: 120 },
    }, 150_000);
    expect(g.worker.running, `worker exited ${g.worker.proc.exitCode ?? g.worker.proc.signalCode}`).toBe(true);
    expect(status.counts).toMatchObject({ validated: 2, failed: 1 });
    const buf = tasks(g.coord, status.id).find((t) => t.seq === 0)!;
    expect(buf.error).toBe('out_of_memory');
    expect((await g.worker.waitFor('task-failed', (e) => e.task === buf.id)).message).toMatch(/memory ceiling of 300 MB/);
    // Filling memory at nice 19 is slow on a busy machine: room for it.
  }, 180_000);
});
