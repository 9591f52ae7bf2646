// 4. Memory: the coordinator's resident set with 0, 100k and 1M queued work units (echo, streamed
// in through the BatchManager with no worker connected), and per connected worker (50 simulated
// volunteers over Hyperswarm, 200 over the volunteer WebSocket, connected and idle). Each of the
// three is measured on a fresh coordinator process. The coordinator runs alone in a child process
// (node --expose-gc) so that its RSS is its own; RSS, JS heap and external memory are read after
// three forced GCs. The DHT and the simulated volunteers live in this process.
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
  const c = await Coordinator.start({ dataDir, grid, bootstrap: [{ host: '127.0.0.1', port: Number(port) }], httpPort: 0, networks: { independence: 'identity' } });
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

/** A fresh coordinator process for one measurement. */
async function withProbe(dht, fn) {
  const grid = `bench-mem-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dataDir = tempDir('swarmgrid-bench-mem-');
  const child = fork(SELF, ['--probe', String(dht.port), grid, dataDir], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise((resolve) => child.once('message', resolve));
    return await fn({ child, grid, http: ready.http });
  } finally {
    await ask(child, { op: 'close' }).catch(() => {});
    child.kill();
    removeDir(dataDir);
  }
}

/** Connects n idle volunteers to a fresh coordinator: its memory per volunteer. */
async function perVolunteer(dht, transport, n) {
  return withProbe(dht, async ({ child, grid, http }) => {
    const volunteers = [];
    try {
      const before = await ask(child, { op: 'rss' });
      for (let i = 0; i < n; i++) {
        volunteers.push(transport === 'hyperswarm'
          ? await SwarmVolunteer.connect({ bootstrap: [{ host: '127.0.0.1', port: dht.port }], grid }, { runtime: 'node' })
          : await WsVolunteer.connect(http, { runtime: 'browser' }));
      }
      await Promise.race([Promise.all(volunteers.map((v) => v.welcomed)), sleep(60_000)]);
      await until(async () => (await ask(child, { op: 'rss' })).welcomed >= n, 60_000, 200);
      await sleep(500);
      const after = await ask(child, { op: 'rss' });
      const res = {
        workers: n, rssBeforeMiB: before.rss, rssAfterMiB: after.rss,
        perWorkerKiB: ((after.rss - before.rss) * 1024) / n,
        heapPerWorkerKiB: ((after.heap - before.heap) * 1024) / n,
        externalPerWorkerKiB: ((after.external - before.external) * 1024) / n,
        errors: volunteers.reduce((sum, v) => sum + v.errors.length, 0),
      };
      log(`memory: ${n} ${transport} workers → RSS +${(after.rss - before.rss).toFixed(1)} MiB, ${res.perWorkerKiB.toFixed(0)} KiB each (JS heap ${res.heapPerWorkerKiB.toFixed(0)}, external ${res.externalPerWorkerKiB.toFixed(0)} KiB each)`);
      return res;
    } finally {
      await Promise.all(volunteers.map((v) => v.close()));
    }
  });
}

export async function memory({ steps = [100_000, 1_000_000], workers = 50 } = {}) {
  const { startBootstrap } = await dist('proto/discovery.js');
  const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
  try {
    const queued = await withProbe(dht, async ({ child }) => {
      const zero = await ask(child, { op: 'rss' });
      const out = [{ units: 0, rssMiB: zero.rss, heapMiB: zero.heap }];
      let total = 0;
      for (const units of steps) {
        const { ms } = await ask(child, { op: 'submit', units: units - total });
        total = units;
        const { rss, heap } = await ask(child, { op: 'rss' });
        out.push({ units, rssMiB: rss, heapMiB: heap, ingestMs: ms });
        log(`memory: ${units.toLocaleString('en-US')} queued work units → RSS ${rss.toFixed(1)} MiB (ingest ${(ms / 1000).toFixed(1)} s)`);
      }
      return out;
    });
    // Hyperswarm peers each bring a DHT node and a swarm to this process, so fewer of them.
    const perWorker = { hyperswarm: await perVolunteer(dht, 'hyperswarm', workers), websocket: await perVolunteer(dht, 'websocket', 4 * workers) };
    return { queued, perWorker, errors: perWorker.hyperswarm.errors + perWorker.websocket.errors };
  } finally {
    await dht.destroy();
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
