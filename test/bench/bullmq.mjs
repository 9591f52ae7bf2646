// 3. A peer: the same trivial workload on BullMQ with a real Redis, against swarmgrid, interleaved.
// Like with like: the same jobs ({ value: i }, echoed back), the same number of worker processes,
// jobs added in bulk, every result kept and read back by the submitter at the end (swarmgrid's
// reducer reads every canonical output from SQLite; here every returnvalue from Redis).
// BullMQ runs at its own best concurrency from `--concurrency` (its processor is inline; swarmgrid's
// worker runs one task at a time per thread, batched).
//   node test/bench/bullmq.mjs [--jobs N] [--runs N] [--workers N] [--concurrency 1,16]
//   node test/bench/bullmq.mjs --worker PORT QUEUE CONCURRENCY   (a BullMQ worker process)
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { emit, JsonProcess, LocalGrid, log, sleep, summary } from './lib.mjs';
import { ensureRedisServer, startRedis } from './redis.mjs';

const SELF = fileURLToPath(import.meta.url);

/** A BullMQ worker process: echoes every job's data. */
async function workerMain(port, queueName, concurrency) {
  const { Worker } = await import('bullmq');
  const worker = new Worker(queueName, async (job) => job.data, {
    connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null },
    concurrency,
    // Defaults otherwise: completed jobs and their return values are kept in Redis.
  });
  worker.on('error', () => {});
  await worker.waitUntilReady();
  process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n');
  process.once('SIGTERM', async () => {
    await worker.close();
    process.exit(0);
  });
}

async function bullRun({ port, jobs, workers, concurrency, round }) {
  const { Queue } = await import('bullmq');
  const name = `bench-${round}-${concurrency}`;
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  const procs = [];
  try {
    await queue.waitUntilReady();
    for (let i = 0; i < workers; i++) procs.push(new JsonProcess([SELF, '--worker', String(port), name, String(concurrency)]));
    await Promise.all(procs.map((p) => p.waitFor('ready')));
    const t0 = performance.now();
    for (let i = 0; i < jobs; i += 1000) {
      const chunk = [];
      for (let k = i; k < Math.min(jobs, i + 1000); k++) chunk.push({ name: 'echo', data: { value: k } });
      await queue.addBulk(chunk);
    }
    while ((await queue.getJobCountByTypes('completed')) < jobs) await sleep(20);
    const processedMs = performance.now() - t0;
    let collected = 0;
    for (let start = 0; start < jobs; start += 1000) {
      const page = await queue.getJobs(['completed'], start, start + 999, true);
      for (const job of page) if (job.returnvalue && typeof job.returnvalue.value === 'number') collected++;
    }
    const ms = performance.now() - t0;
    if (collected !== jobs) throw new Error(`BullMQ: ${collected}/${jobs} results collected`);
    return { ms, processedMs };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

export async function bullmq({ jobs = 20_000, runs = 3, workers = 2, concurrencies = [1, 16] } = {}) {
  const bin = ensureRedisServer();
  if (!bin) return { error: 'redis-server is not installed and could not be installed (needs root and apt-get)' };
  const redis = await startRedis(bin);
  const grid = await LocalGrid.start();
  try {
    for (let i = 0; i < workers; i++) await grid.worker({ threads: 1 });
    const spec = { kind: 'echo', params: { workUnits: jobs }, policy: { replication: 1, quorum: 1 } };
    await grid.runBatch({ ...spec, params: { workUnits: 2000 } }); // warm-up
    await bullRun({ port: redis.port, jobs: 2000, workers, concurrency: concurrencies.at(-1), round: 'warm' });
    const sg = [];
    const bull = Object.fromEntries(concurrencies.map((c) => [c, []]));
    const processed = Object.fromEntries(concurrencies.map((c) => [c, []]));
    for (let r = 0; r < runs; r++) {
      const { ms, row } = await grid.runBatch(spec);
      if (row.state !== 'completed') throw new Error(`swarmgrid batch ended ${row.state}`);
      sg.push((jobs / ms) * 1000);
      for (const c of concurrencies) {
        const { ms, processedMs } = await bullRun({ port: redis.port, jobs, workers, concurrency: c, round: r });
        bull[c].push((jobs / ms) * 1000);
        processed[c].push((jobs / processedMs) * 1000);
      }
      log(`bullmq run ${r + 1}: swarmgrid ${Math.round(sg[r])} jobs/s; BullMQ ${concurrencies.map((c) => `c${c} ${Math.round(bull[c][r])}`).join(', ')} jobs/s`);
    }
    const best = Math.max(...concurrencies.map((c) => summary(bull[c]).median));
    const bestC = concurrencies.find((c) => summary(bull[c]).median === best);
    // Per round: swarmgrid against BullMQ at its best concurrency in the same round.
    const ratios = sg.map((s, r) => s / bull[bestC][r]);
    return {
      jobs, workers, redis: (await import('node:child_process')).execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' '),
      swarmgrid: summary(sg),
      bullmq: Object.fromEntries(concurrencies.map((c) => [c, summary(bull[c])])),
      // The same runs up to the last job completed, before its results were read back.
      bullmqProcessed: Object.fromEntries(concurrencies.map((c) => [c, summary(processed[c])])),
      bestConcurrency: bestC,
      ratio: summary(ratios),
    };
  } finally {
    await grid.close();
    await redis.stop();
  }
}

if (process.argv[2] === '--worker') {
  await workerMain(Number(process.argv[3]), process.argv[4], Number(process.argv[5]));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { jobs: { type: 'string' }, runs: { type: 'string' }, workers: { type: 'string' }, concurrency: { type: 'string' } } });
  const res = await bullmq({
    jobs: Number(values.jobs ?? 20_000), runs: Number(values.runs ?? 3), workers: Number(values.workers ?? 2),
    concurrencies: (values.concurrency ?? '1,16').split(',').map(Number),
  });
  emit({ section: 'bullmq', results: res });
  process.exit(0);
}
