// 5. Connect storm: N simulated volunteers join a running coordinator at once; the figure is the
// time from the first connect until every one of them holds a task, and the errors (must be 0).
// The coordinator is a real `swarmgrid coordinator` process with an echo batch queued (submitted
// over HTTP with GridClient). Volunteers: 200 over the volunteer WebSocket (/v1/volunteer, what a
// browser tab speaks: Hello, Credit 1, Assign, Result), each with its own identity key; then 200
// over Hyperswarm, each with its own DHT node and key pair (what `swarmgrid worker` does), all in
// this process.
//   node test/bench/storm.mjs [--volunteers 200] [--swarm 200] [--runs 3]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CLI, dist, emit, JsonProcess, log, median, removeDir, summary, tempDir } from './lib.mjs';
import { SwarmVolunteer, WsVolunteer } from './sim-volunteer.mjs';

async function storm(connect, n) {
  const t0 = performance.now();
  const volunteers = [];
  let connectErrors = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    try {
      volunteers.push(await connect());
    } catch {
      connectErrors++;
    }
  }));
  const deadline = new Promise((r) => setTimeout(r, 60_000, 'timeout'));
  const outcome = await Promise.race([Promise.all(volunteers.map((v) => v.gotTask)), deadline]);
  const times = volunteers.filter((v) => v.firstTaskAt !== undefined).map((v) => v.firstTaskAt - t0);
  const errors = connectErrors + volunteers.reduce((k, v) => k + v.errors.length, 0) + (outcome === 'timeout' ? n - times.length : 0);
  const messages = volunteers.flatMap((v) => v.errors).slice(0, 5);
  await Promise.all(volunteers.map((v) => v.close()));
  return { allMs: times.length === n ? Math.max(...times) : NaN, p50Ms: median(times), withTask: times.length, errors, messages };
}

export async function connectStorm({ volunteers = 200, swarm = 200, runs = 3 } = {}) {
  const { startBootstrap } = await dist('proto/discovery.js');
  const { GridClient } = await dist('coordinator/client/grid-client.js');
  const dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
  const dataDir = tempDir('swarmgrid-bench-storm-');
  const grid = `bench-storm-${process.pid}`;
  const token = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', dataDir, '--init'], { encoding: 'utf8' }).trim();
  const coord = new JsonProcess([CLI, 'coordinator', '--data', dataDir, '--grid', grid, '--bootstrap', `127.0.0.1:${dht.port}`, '--http-port', '0', '--json', '--local-grid']);
  try {
    const ready = await coord.waitFor('coordinator-ready');
    const client = new GridClient({ url: ready.http, token });
    // Enough units that every volunteer of every storm gets one; a volunteer replies at once.
    await client.submit({ kind: 'echo', params: { workUnits: (volunteers + swarm) * runs * 4 }, policy: { replication: 1, quorum: 1 } });
    const ws = [];
    for (let r = 0; r < runs; r++) {
      const res = await storm(() => WsVolunteer.connect(ready.http, { runtime: 'browser', credit: 1 }), volunteers);
      ws.push(res);
      log(`storm run ${r + 1}: ${volunteers} WebSocket volunteers, all with a task after ${res.allMs.toFixed(0)} ms (median ${res.p50Ms.toFixed(0)} ms), ${res.errors} errors${res.messages.length ? ': ' + res.messages.join('; ') : ''}`);
    }
    const hs = [];
    for (let r = 0; r < (swarm > 0 ? runs : 0); r++) {
      const res = await storm(() => SwarmVolunteer.connect({ bootstrap: [{ host: '127.0.0.1', port: dht.port }], grid }, { runtime: 'node', credit: 1 }), swarm);
      hs.push(res);
      log(`storm run ${r + 1}: ${swarm} Hyperswarm volunteers, all with a task after ${res.allMs.toFixed(0)} ms (median ${res.p50Ms.toFixed(0)} ms), ${res.errors} errors${res.messages.length ? ': ' + res.messages.join('; ') : ''}`);
    }
    const figures = (list, n) => ({ volunteers: n, allMs: summary(list.map((r) => r.allMs)), p50Ms: summary(list.map((r) => r.p50Ms)), errors: list.reduce((k, r) => k + r.errors, 0) });
    return { websocket: figures(ws, volunteers), ...(hs.length > 0 && { hyperswarm: figures(hs, swarm) }) };
  } finally {
    await coord.stop();
    await dht.destroy();
    removeDir(dataDir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { volunteers: { type: 'string' }, swarm: { type: 'string' }, runs: { type: 'string' } } });
  const res = await connectStorm({ volunteers: Number(values.volunteers ?? 200), swarm: Number(values.swarm ?? 200), runs: Number(values.runs ?? 3) });
  emit({ section: 'storm', results: res });
  process.exit(0);
}
