// 3. A peer: the same trivial workload on BullMQ with a real Redis, against swarmgrid, interleaved.
// Like with like: the server in its own process on both sides (redis-server; `swarmgrid
// coordinator`), two worker processes each, and the submitter in this process speaking each
// one's client protocol: 20,000 jobs
// ({ value: i }, echoed back) sent by a client (swarmgrid: one NDJSON POST /v1/batches through
// GridClient; BullMQ: addBulk of 1,000 at a time), completion polled every 20 ms (GET
// /v1/batches/:id; getJobCountByTypes), then every result read back and checked (GET
// /v1/batches/:id/results; getJobs with return values). Two worker processes on each side, both
// warm and kept across rounds. BullMQ runs at its best concurrency from `--concurrency` (its
// processor is inline; swarmgrid's worker runs tasks in a Piscina thread, batched).
//   node test/bench/bullmq.mjs [--jobs N] [--runs N] [--workers N] [--concurrency 1,16]
//   node test/bench/bullmq.mjs --worker PORT QUEUE CONCURRENCY   (a BullMQ worker process)
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { CLI, dist, emit, JsonProcess, log, removeDir, sleep, summary, tempDir } from './lib.mjs';
import { ensureRedisServer, startRedis } from './redis.mjs';

const SELF = fileURLToPath(import.meta.url);
const POLL_MS = 20;

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

/** A queue and its worker processes at one concurrency, kept for every round. */
async function bullSide({ port, workers, concurrency }) {
  const { Queue } = await import('bullmq');
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const queue = new Queue(`bench-c${concurrency}`, { connection });
  await queue.waitUntilReady();
  const procs = Array.from({ length: workers }, () => new JsonProcess([SELF, '--worker', String(port), queue.name, String(concurrency)]));
  await Promise.all(procs.map((p) => p.waitFor('ready')));
  return {
    async run(jobs) {
      const t0 = performance.now();
      for (let i = 0; i < jobs; i += 1000) {
        const chunk = [];
        for (let k = i; k < Math.min(jobs, i + 1000); k++) chunk.push({ name: 'echo', data: { value: k } });
        await queue.addBulk(chunk);
      }
      while ((await queue.getJobCountByTypes('completed')) < jobs) await sleep(POLL_MS);
      const processedMs = performance.now() - t0;
      let collected = 0;
      for (let start = 0; start < jobs; start += 1000) {
        const page = await queue.getJobs(['completed'], start, start + 999, true);
        for (const job of page) if (job.returnvalue && job.returnvalue.value === job.data.value) collected++;
      }
      const ms = performance.now() - t0;
      if (collected !== jobs) throw new Error(`BullMQ: ${collected}/${jobs} results collected`);
      await queue.clean(0, 0, 'completed'); // the next round starts from an empty queue
      return { ms, processedMs };
    },
    async close() {
      await Promise.all(procs.map((p) => p.stop()));
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    },
  };
}

/** A coordinator process, its workers, and a GridClient: swarmgrid's side. */
async function gridSide(workers) {
  const { startBootstrap } = await dist('proto/discovery.js');
  const { GridClient } = await dist('coordinator/client/grid-client.js');
  const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
  const dataDir = tempDir('swarmgrid-bench-bullmq-');
  const grid = `bench-bullmq-${process.pid}`;
  const bootstrap = `127.0.0.1:${dht.port}`;
  const token = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', dataDir, '--init'], { encoding: 'utf8' }).trim();
  // BENCH_COORD_PROF=DIR: a CPU profile of the coordinator process (node --cpu-prof).
  const nodeArgs = process.env.BENCH_COORD_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_COORD_PROF] : [];
  const coord = new JsonProcess([CLI, 'coordinator', '--data', dataDir, '--grid', grid, '--bootstrap', bootstrap, '--http-port', '0', '--json', '--local-grid'], { nodeArgs });
  const procs = [];
  const close = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await coord.stop();
    await dht.destroy();
    removeDir(dataDir);
  };
  try {
    const ready = await coord.waitFor('coordinator-ready');
    for (let i = 0; i < workers; i++) procs.push(new JsonProcess([CLI, 'worker', '--grid', grid, '--bootstrap', bootstrap, '--threads', '1', '--json']));
    await Promise.all(procs.map((p) => p.waitFor('coordinator-joined')));
    return { client: new GridClient({ url: ready.http, token }), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The same through swarmgrid's HTTP API. */
async function gridRun(client, jobs) {
  const t0 = performance.now();
  const inputs = function* () {
    for (let i = 0; i < jobs; i++) yield { value: i };
  };
  const { id } = await client.submitNdjson({ kind: 'echo', policy: { replication: 1, quorum: 1 } }, inputs());
  const submittedMs = performance.now() - t0;
  let state;
  let polls = 0;
  let pollMs = 0;
  for (;;) {
    const p0 = performance.now();
    state = (await client.status(id)).state;
    pollMs += performance.now() - p0;
    polls++;
    if (state === 'completed') break;
    if (state === 'failed' || state === 'cancelled') throw new Error(`swarmgrid batch ended ${state}`);
    await sleep(POLL_MS);
  }
  const processedMs = performance.now() - t0;
  let collected = 0;
  for await (const line of client.results(id)) if (line.state === 'validated' && line.output?.value === line.seq) collected++;
  const ms = performance.now() - t0;
  if (collected !== jobs) throw new Error(`swarmgrid: ${collected}/${jobs} results collected`);
  if (process.env.BENCH_PHASES) log(`swarmgrid phases: submitted ${submittedMs.toFixed(0)} ms, done ${processedMs.toFixed(0)} ms, read back ${ms.toFixed(0)} ms; ${polls} polls, ${(pollMs / polls).toFixed(1)} ms each`);
  return { ms, processedMs };
}

export async function bullmq({ jobs = 20_000, runs = 3, workers = 2, concurrencies = [1, 16] } = {}) {
  const bin = ensureRedisServer();
  if (!bin) return { error: 'redis-server is not installed and could not be installed (needs root and apt-get)' };
  const redis = await startRedis(bin);
  const sides = [];
  let grid;
  try {
    grid = await gridSide(workers);
    for (const c of concurrencies) sides.push(await bullSide({ port: redis.port, workers, concurrency: c }));
    // Warm-up of both: JIT, connections, SQLite, the workers' prefetch estimates.
    await gridRun(grid.client, 2000);
    for (const side of sides) await side.run(2000);
    const sg = [];
    const sgProcessed = [];
    const bull = Object.fromEntries(concurrencies.map((c) => [c, []]));
    const processed = Object.fromEntries(concurrencies.map((c) => [c, []]));
    for (let r = 0; r < runs; r++) {
      const g = await gridRun(grid.client, jobs);
      sg.push((jobs / g.ms) * 1000);
      sgProcessed.push((jobs / g.processedMs) * 1000);
      for (const [i, c] of concurrencies.entries()) {
        const { ms, processedMs } = await sides[i].run(jobs);
        bull[c].push((jobs / ms) * 1000);
        processed[c].push((jobs / processedMs) * 1000);
      }
      log(`bullmq run ${r + 1}: swarmgrid ${Math.round(sg[r])} jobs/s; BullMQ ${concurrencies.map((c) => `c${c} ${Math.round(bull[c][r])}`).join(', ')} jobs/s`);
    }
    const best = Math.max(...concurrencies.map((c) => summary(bull[c]).median));
    const bestC = concurrencies.find((c) => summary(bull[c]).median === best);
    // Per round: swarmgrid against BullMQ at its best concurrency in the same round, both with
    // results read back, and both up to the last job done (before reading back).
    const ratios = sg.map((s, r) => s / bull[bestC][r]);
    const processedRatios = sgProcessed.map((s, r) => s / processed[bestC][r]);
    return {
      jobs, workers, redis: (await import('node:child_process')).execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' '),
      swarmgrid: summary(sg),
      swarmgridProcessed: summary(sgProcessed),
      bullmq: Object.fromEntries(concurrencies.map((c) => [c, summary(bull[c])])),
      bullmqProcessed: Object.fromEntries(concurrencies.map((c) => [c, summary(processed[c])])),
      bestConcurrency: bestC,
      ratio: summary(ratios),
      processedRatio: summary(processedRatios),
    };
  } finally {
    for (const side of sides) await side.close();
    await grid?.close();
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
