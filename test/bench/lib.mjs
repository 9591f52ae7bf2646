// Shared helpers of the benchmarks: statistics, the machine, a local grid (private DHT, an
// in-process coordinator, worker child processes), CPU and memory probes. Plain ESM over dist/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const CLI = join(DIST, 'bin', 'swarmgrid.js');
export const dist = (rel) => import(join(DIST, rel));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median and spread (min–max) of a list of runs, for the table. */
export function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

export function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch { /* not Linux */ }
  return { cpu: model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
}

export function tempDir(prefix = 'swarmgrid-bench-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system) of this process, in microseconds. */
export function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU time of another process from /proc/PID/stat, in microseconds (Linux). */
export function pidCpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 Hz on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Settles the heap (needs --expose-gc) and returns the RSS in MiB. */
export async function settledRss() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(100);
  }
  return process.memoryUsage().rss / 2 ** 20;
}

/** A child process that logs one JSON object per line; `waitFor` resolves on a matching event. */
export class JsonProcess {
  constructor(args, { env = {}, nodeArgs = [] } = {}) {
    this.events = [];
    this.stderr = '';
    this.waiters = [];
    this.proc = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let carry = '';
    this.proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      carry += chunk;
      let nl;
      while ((nl = carry.indexOf('\n')) >= 0) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        let e;
        try { e = JSON.parse(line); } catch { e = { event: 'text', line }; }
        this.events.push(e);
        this.waiters = this.waiters.filter((w) => (w.match(e) ? (w.resolve(e), false) : true));
      }
    });
    this.proc.stderr.setEncoding('utf8').on('data', (c) => { this.stderr += c; });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(code ?? signal)));
  }

  waitFor(event, pred = () => true, timeoutMs = 60_000) {
    const match = (e) => e.event === event && pred(e);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}: ${this.stderr.slice(-2000)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }

  async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * A local grid: a private DHT on 127.0.0.1, one coordinator in this process (so its CPU time is
 * `process.cpuUsage()`), and worker child processes from the built CLI.
 */
export class LocalGrid {
  /** With `http`, the HTTP API listens on a free loopback port and `client` is a GridClient with a token. */
  static async start({ coordinator = {}, http = false } = {}) {
    const { startBootstrap } = await dist('proto/discovery.js');
    const { Coordinator } = await dist('coordinator/coordinator.js');
    const g = new LocalGrid();
    g.dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
    g.name = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    g.dataDir = tempDir('swarmgrid-bench-coord-');
    // The token is created before the coordinator takes its lock on the data directory.
    const token = http ? execFileSync(process.execPath, [CLI, 'token', 'create', '--data', g.dataDir], { encoding: 'utf8' }).trim() : undefined;
    g.coordinator = await Coordinator.start({
      dataDir: g.dataDir, grid: g.name, bootstrap: [{ host: '127.0.0.1', port: g.dht.port }], ...(http && { httpPort: 0, httpHost: '127.0.0.1' }),
      networks: { independence: 'identity' }, // every volunteer here is on this machine: a local grid
      ...coordinator,
    });
    if (http) {
      const { GridClient } = await dist('coordinator/client/grid-client.js');
      g.client = new GridClient({ url: g.coordinator.httpUrl, token });
    }
    g.workers = [];
    return g;
  }

  get bootstrap() {
    return `127.0.0.1:${this.dht.port}`;
  }

  /** Starts a worker process and waits until the coordinator has welcomed it. */
  async worker({ threads = 1, nodeArgs = [], env = {} } = {}) {
    const before = this.coordinator.sessions.size;
    const w = new JsonProcess([CLI, 'worker', '--grid', this.name, '--bootstrap', this.bootstrap, '--threads', String(threads), '--json'], { nodeArgs, env });
    this.workers.push(w);
    await w.waitFor('coordinator-joined');
    await until(() => [...this.coordinator.sessions].filter((s) => s.welcomed).length > before);
    return w;
  }

  /** Stops every worker process and waits until the coordinator has let their sessions go. */
  async stopWorkers() {
    await Promise.all(this.workers.splice(0).map((w) => w.stop()));
    await until(() => this.coordinator.sessions.size === 0, 30_000);
  }

  /** Submits a batch in-process and resolves with its wall time once it is final. */
  async runBatch(spec) {
    const { batches } = this.coordinator;
    let resolveDone;
    const done = new Promise((r) => { resolveDone = r; });
    let id;
    const pending = [];
    batches.onFinished((row) => { if (row.id === id) resolveDone(row); else pending.push(row); });
    const t0 = performance.now();
    id = await batches.create(spec);
    const early = pending.find((r) => r.id === id);
    const row = early ?? (await done);
    return { ms: performance.now() - t0, row, id };
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.coordinator.close();
    await this.dht.destroy();
    removeDir(this.dataDir);
  }
}

export async function until(fn, timeoutMs = 60_000, everyMs = 10) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(everyMs);
  }
}

/** Section scripts print their figures as one JSON line prefixed with this marker. */
export const RESULT_MARK = '@@bench-result ';

export function emit(result) {
  process.stdout.write(RESULT_MARK + JSON.stringify(result) + '\n');
}

export const log = (...args) => process.stderr.write(`[bench] ${args.join(' ')}\n`);
