// 1. Dispatch throughput: the echo kind end to end over loopback Hyperswarm. The coordinator runs
// in this process (its CPU time is process.cpuUsage()); workers are `swarmgrid worker` processes.
// Figures: work units completed per second, tasks per second, coordinator CPU µs per task.
//   node test/bench/throughput.mjs [--units N] [--runs N] [--profile DIR]
import { parseArgs } from 'node:util';
import { cpuMicros, emit, LocalGrid, log, pidCpuMicros, summary } from './lib.mjs';

export const CONFIGS = [
  { name: 'r1-1w', replication: 1, workers: 1 },
  { name: 'r1-2w', replication: 1, workers: 2 },
  { name: 'r2-2w', replication: 2, workers: 2 },
];

/** One configuration: a fresh grid, a warm-up batch, then `runs` measured batches. */
export async function measure({ replication, workers, units, runs, threads = 1, profileDir }) {
  const grid = await LocalGrid.start();
  try {
    const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    for (let i = 0; i < workers; i++) await grid.worker({ threads, nodeArgs });
    const policy = { replication, quorum: replication };
    await grid.runBatch({ kind: 'echo', params: { workUnits: Math.min(2000, units) }, policy }); // warm-up: JIT, threads, SQLite
    const out = [];
    for (let r = 0; r < runs; r++) {
      const c0 = cpuMicros();
      const k0 = grid.coordinator.store.commits;
      const w0 = grid.workers.reduce((sum, w) => sum + pidCpuMicros(w.proc.pid), 0);
      const { ms, row } = await grid.runBatch({ kind: 'echo', params: { workUnits: units }, policy });
      const cpu = cpuMicros() - c0;
      const commits = grid.coordinator.store.commits - k0;
      const wcpu = grid.workers.reduce((sum, w) => sum + pidCpuMicros(w.proc.pid), 0) - w0;
      if (row.state !== 'completed' || row.validated !== units) throw new Error(`batch ended ${row.state} with ${row.validated}/${units}`);
      out.push({ wuPerSec: (units / ms) * 1000, tasksPerSec: ((units * replication) / ms) * 1000, cpuUsPerTask: cpu / (units * replication), tasksPerCommit: (units * replication) / commits, workerCpuUsPerTask: wcpu / (units * replication), ms });
    }
    return out;
  } finally {
    await grid.close();
  }
}

export async function throughput({ units = 10_000, runs = 3, configs = CONFIGS, profileDir } = {}) {
  const results = {};
  for (const cfg of configs) {
    const out = await measure({ ...cfg, units, runs, profileDir });
    results[cfg.name] = {
      ...cfg, units,
      wuPerSec: summary(out.map((o) => o.wuPerSec)),
      tasksPerSec: summary(out.map((o) => o.tasksPerSec)),
      cpuUsPerTask: summary(out.map((o) => o.cpuUsPerTask)),
      tasksPerCommit: summary(out.map((o) => o.tasksPerCommit)),
      workerCpuUsPerTask: summary(out.map((o) => o.workerCpuUsPerTask)),
    };
    log(`throughput ${cfg.name}: ${Math.round(results[cfg.name].wuPerSec.median)} WU/s, ${results[cfg.name].cpuUsPerTask.median.toFixed(1)} µs coordinator CPU/task, ${Math.round(results[cfg.name].workerCpuUsPerTask.median)} µs worker CPU/task, ${results[cfg.name].tasksPerCommit.median.toFixed(1)} tasks/commit`);
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { units: { type: 'string' }, runs: { type: 'string' }, profile: { type: 'string' }, only: { type: 'string' } } });
  const configs = values.only ? CONFIGS.filter((c) => c.name === values.only) : CONFIGS;
  const res = await throughput({ units: Number(values.units ?? 10_000), runs: Number(values.runs ?? 3), configs, profileDir: values.profile });
  emit({ section: 'throughput', results: res });
  process.exit(0);
}
