// 2. Efficiency: a CPU-bound kind (pi, samplesPerUnit tuned to ~10 ms per task, replication 1)
// through the grid against raw Piscina running the very same thread function
// (dist/worker/task-thread.js) on the same inputs with the same thread count, interleaved.
// Both sides generate and encode the inputs, run every task and fold the outputs with the kind's
// reducer; the grid also stores, validates and schedules. Ratio = grid wall time / raw wall time,
// the median of interleaved pairs; and, less sensitive to other load on the machine, the ratio of
// CPU time (coordinator + worker process against this process running the raw pool).
//   node test/bench/efficiency.mjs [--units N] [--runs N] [--threads N] [--task-ms 10]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Piscina } from 'piscina';
import { cpuMicros, dist, DIST, emit, LocalGrid, log, median, pidCpuMicros, summary } from './lib.mjs';

const THREAD_FILE = new URL('worker/task-thread.js', `file://${DIST}/`).href;

function rawPool(threads) {
  // The grid's task threads run at nice 19 unless SWARMGRID_THREAD_NICE says otherwise (runner.ts):
  // raw Piscina gets the same, so that only the grid's own overhead differs.
  const raw = process.env.SWARMGRID_THREAD_NICE;
  const niceness = raw && Number.isInteger(Number(raw)) ? Number(raw) : 19;
  return new Piscina({ filename: THREAD_FILE, minThreads: threads, maxThreads: threads, idleTimeout: 60_000, workerData: { niceness } });
}

/** Raw Piscina: generate, encode, run all, fold with the reducer — what the grid does minus the grid. */
async function runRaw(pool, units, samples) {
  const { pi } = await dist('jobs/pi.js');
  const { encodeInput, decodeOutput } = await dist('jobs/codec.js');
  const t0 = performance.now();
  const inputs = [...pi.generate({ workUnits: units, samplesPerUnit: samples, seed: 1 })].map((i) => encodeInput(i));
  const results = await Promise.all(inputs.map((input) => pool.run({ kind: 'pi', input })));
  let acc = pi.reducer.init();
  for (const r of results) {
    if (r.errorCode) throw new Error(`raw task failed: ${r.message}`);
    acc = pi.reducer.add(acc, decodeOutput(pi, r.output));
  }
  pi.reducer.finish(acc);
  return performance.now() - t0;
}

/** Samples per unit for a ~taskMs task in a pool thread, timed one task at a time. */
async function calibrate(pool, taskMs) {
  const { encodeInput } = await dist('jobs/codec.js');
  let samples = 200_000;
  for (let round = 0; round < 3; round++) {
    // Wall time of one task at a time: a thread's CPU clock on Node 20 is /proc's, in 10 ms ticks,
    // and read 0 for tasks this short (which made samples Infinity).
    const times = [];
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      await pool.run({ kind: 'pi', input: encodeInput({ seed: i, samples }) });
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    samples = Math.max(1000, Math.round((samples * taskMs) / ms));
  }
  return samples;
}

export async function efficiency({ units = 600, runs = 3, threads = availableParallelism(), taskMs = 10 } = {}) {
  const calibration = rawPool(threads);
  const samples = await calibrate(calibration, taskMs);
  await calibration.destroy();
  const grid = await LocalGrid.start();
  try {
    const spec = { kind: 'pi', params: { workUnits: units, samplesPerUnit: samples, seed: 1 }, policy: { replication: 1, quorum: 1 } };
    const gridMs = [];
    const rawMs = [];
    const ratios = [];
    const cpuRatios = [];
    for (let r = 0; r < runs; r++) {
      // A fresh worker process and a fresh raw pool for every pair, each warmed with the same
      // 36 tasks: how fast a thread's JIT-compiled kernel runs varies by a few per cent from one
      // process to the next, and one process for every pair would fix that draw for the section.
      await grid.worker({ threads });
      await grid.runBatch({ ...spec, params: { ...spec.params, workUnits: 36 } });
      const pool = rawPool(threads);
      await runRaw(pool, 36, samples);
      // Alternate which goes first, so that drift in the machine's load favours neither.
      const order = r % 2 ? ['raw', 'grid'] : ['grid', 'raw'];
      const t = {};
      const cpu = {};
      const workerPid = grid.workers[0].proc.pid;
      for (const which of order) {
        const c0 = cpuMicros();
        const w0 = pidCpuMicros(workerPid);
        if (which === 'grid') {
          const { ms, row } = await grid.runBatch(spec);
          if (row.state !== 'completed') throw new Error(`grid batch ended ${row.state}`);
          t.grid = ms;
          // Coordinator (this process) + the worker process (its main thread and its pool threads).
          cpu.grid = cpuMicros() - c0 + pidCpuMicros(workerPid) - w0;
        } else {
          t.raw = await runRaw(pool, units, samples);
          cpu.raw = cpuMicros() - c0; // this process: the raw pool's threads and the folding
        }
      }
      await pool.destroy();
      await grid.stopWorkers();
      gridMs.push(t.grid);
      rawMs.push(t.raw);
      ratios.push(t.grid / t.raw);
      cpuRatios.push(cpu.grid / cpu.raw);
      log(`efficiency run ${r + 1}: grid ${t.grid.toFixed(0)} ms, raw Piscina ${t.raw.toFixed(0)} ms, wall ratio ${(t.grid / t.raw).toFixed(3)}, CPU ratio ${(cpu.grid / cpu.raw).toFixed(3)}`);
    }
    const taskMsMeasured = (median(rawMs) * threads) / units;
    return { units, threads, samplesPerUnit: samples, taskMs: taskMsMeasured, gridMs: summary(gridMs), rawMs: summary(rawMs), ratio: summary(ratios), cpuRatio: summary(cpuRatios) };
  } finally {
    await grid.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { units: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' }, 'task-ms': { type: 'string' } } });
  const res = await efficiency({
    units: Number(values.units ?? 600), runs: Number(values.runs ?? 3),
    threads: Number(values.threads ?? availableParallelism()), taskMs: Number(values['task-ms'] ?? 10),
  });
  emit({ section: 'efficiency', results: res });
  process.exit(0);
}
