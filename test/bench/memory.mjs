// 4. Memory: the coordinator's resident set with 0, 100k and 1M queued work units (echo, streamed
// in through the BatchManager with no worker connected), and per connected worker (50 simulated
// volunteers over Hyperswarm, then 200 over the volunteer WebSocket, connected and idle, measured
// first on the fresh process; they leave before the work units stream in).
// The coordinator runs alone in a child process (node --expose-gc) so that its RSS is its own;
// RSS is read after three forced GCs. The DHT and the simulated volunteers live in this process.
//   node test/bench/memory.mjs [--units 100000,1000000] [--workers 50]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dist, emit, log, removeDir, settledRss, sleep, tempDir, until } from './lib.mjs';
import { SwarmVolunteer, WsVolunteer } from './sim-volunteer.mjs';

const SELF = fileURLToPath(import.meta.url);

/** The probe: a coordinator answering { op } messages over IPC. */
async function probeMain() {
  const { Coordinator } = await dist('coordinator/coordinator.js');
  const [port, grid, dataDir] = process.argv.slice(3);
  const c = await Coordinator.start({ dataDir, grid, bootstrap: [{ host: '127.0.0.1', port: Number(port) }], httpPort: 0 });
  let queued = 0;
  process.on('message', async (msg) => {
    try {
      if (msg.op === 'rss') {
        const rss = await settledRss();
        const { heapUsed, external } = process.memoryUsage();
        process.send({ rss, heap: heapUsed / 2 ** 20, external: external / 2 ** 20, welcomed: [...c.sessions].filter((s) => s.welcomed).length });
      }
      else if (msg.op === 'submit') {
        const t0 = performance.now();
        await c.batches.create({ kind: 'echo', params: { workUnits: msg.units }, policy: { replication: 1, quorum: 1 } });
        queued += msg.units;
        process.send({ queued, ms: performance.now() - t0 });
      } else if (msg.op === 'close') {
        await c.close();
        process.send({ closed: true });
        process.exit(0);
      }
    } catch (err) {
      process.send({ error: err.stack });
    }
  });
  process.send({ ready: true, http: c.httpUrl });
}

function ask(child, msg) {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    child.send(msg);
  });
}

export async function memory({ steps = [100_000, 1_000_000], workers = 50 } = {}) {
  const { startBootstrap } = await dist('proto/discovery.js');
  const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
  const grid = `bench-mem-${process.pid}`;
  const dataDir = tempDir('swarmgrid-bench-mem-');
  const child = fork(SELF, ['--probe', String(dht.port), grid, dataDir], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const volunteers = [];
  try {
    const ready = await new Promise((resolve) => child.once('message', resolve));
    const zero = await ask(child, { op: 'rss' });
    const perWorker = {};
    for (const transport of ['hyperswarm', 'websocket']) {
      // Hyperswarm peers each bring a DHT node and a swarm here, so fewer of them; sockets are cheap.
      const n = transport === 'hyperswarm' ? workers : 4 * workers;
      const before = await ask(child, { op: 'rss' });
      const batch = [];
      for (let i = 0; i < n; i++) {
        batch.push(transport === 'hyperswarm'
          ? await SwarmVolunteer.connect({ bootstrap: [{ host: '127.0.0.1', port: dht.port }], grid }, { runtime: 'node' })
          : await WsVolunteer.connect(ready.http, { runtime: 'browser' }));
      }
      volunteers.push(...batch);
      await Promise.race([Promise.all(batch.map((v) => v.welcomed)), sleep(60_000)]);
      await until(async () => (await ask(child, { op: 'rss' })).welcomed >= before.welcomed + n, 60_000, 200);
      await sleep(500);
      const after = await ask(child, { op: 'rss' });
      perWorker[transport] = {
        workers: n, rssBeforeMiB: before.rss, rssAfterMiB: after.rss,
        perWorkerKiB: ((after.rss - before.rss) * 1024) / n, heapPerWorkerKiB: ((after.heap - before.heap) * 1024) / n,
      };
      log(`memory: ${n} ${transport} workers → RSS +${(after.rss - before.rss).toFixed(1)} MiB, ${perWorker[transport].perWorkerKiB.toFixed(0)} KiB each (JS heap ${perWorker[transport].heapPerWorkerKiB.toFixed(0)} KiB each)`);
    }
    // Measured on a fresh process first (its heap has no slack yet); then the volunteers leave.
    const errors = volunteers.reduce((n, v) => n + v.errors.length, 0);
    await Promise.all(volunteers.splice(0).map((v) => v.close()));
    await until(async () => (await ask(child, { op: 'rss' })).welcomed === 0, 30_000, 200);
    const queued = [{ units: 0, rssMiB: zero.rss, heapMiB: zero.heap }];
    let total = 0;
    for (const units of steps) {
      const { ms } = await ask(child, { op: 'submit', units: units - total });
      total = units;
      const { rss, heap } = await ask(child, { op: 'rss' });
      queued.push({ units, rssMiB: rss, heapMiB: heap, ingestMs: ms });
      log(`memory: ${units.toLocaleString('en-US')} queued work units → RSS ${rss.toFixed(1)} MiB (ingest ${(ms / 1000).toFixed(1)} s)`);
    }
    return { queued, perWorker, errors };
  } finally {
    await Promise.all(volunteers.map((v) => v.close()));
    await ask(child, { op: 'close' }).catch(() => {});
    child.kill();
    await dht.destroy();
    removeDir(dataDir);
  }
}

if (process.argv[2] === '--probe') {
  await probeMain();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { units: { type: 'string' }, workers: { type: 'string' } } });
  const res = await memory({ steps: (values.units ?? '100000,1000000').split(',').map(Number), workers: Number(values.workers ?? 50) });
  emit({ section: 'memory', results: res });
  process.exit(0);
}
