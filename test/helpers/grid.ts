/**
 * Test harness: a real local DHT, real coordinator and worker child processes started from the
 * built CLI (dist/bin/swarmgrid.js, built by `npm test`), temp dirs, and cleanup of all of it.
 * Every process logs JSON lines; tests wait on those events instead of sleeping.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BootstrapServer, startBootstrap } from '../../proto/discovery.js';

export const CLI = fileURLToPath(new URL('../../dist/bin/swarmgrid.js', import.meta.url));

export interface LogEvent {
  event: string;
  [key: string]: unknown;
}

export class GridProcess {
  readonly proc: ChildProcess;
  readonly events: LogEvent[] = [];
  readonly stderr: string[] = [];
  #waiters: { match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}, script = CLI) {
    this.proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let carry = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      carry += chunk;
      let nl: number;
      while ((nl = carry.indexOf('\n')) >= 0) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        try {
          this.#push(JSON.parse(line) as LogEvent);
        } catch {
          this.#push({ event: 'text', line });
        }
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  #push(e: LogEvent): void {
    this.events.push(e);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  /** Resolves with the first event (past or future) that matches. */
  waitFor(event: string, pred: (e: LogEvent) => boolean = () => true, timeoutMs = 30_000): Promise<LogEvent> {
    const match = (e: LogEvent) => e.event === event && pred(e);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}; stderr: ${this.stderr.join('')}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface CoordinatorProcess extends GridProcess {
  key: string;
  url: string;
  dataDir: string;
  token: string;
}

/** Creates and tracks everything a test starts, and tears it all down. */
export class TestGrid {
  dht?: BootstrapServer;
  readonly grid = `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly processes: GridProcess[] = [];
  readonly dirs: string[] = [];

  async start(): Promise<this> {
    this.dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
    return this;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.dht!.port}`;
  }

  tempDir(prefix = 'swarmgrid-test-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  spawn(args: string[], env?: Record<string, string>, script?: string): GridProcess {
    const p = new GridProcess(args, env, script);
    this.processes.push(p);
    return p;
  }

  /**
   * Starts a coordinator process (HTTP on a free port) and creates a submitter token. Every
   * worker of a test runs on this machine, so the coordinator runs as a local grid
   * (`--local-grid`: identities count as independent) unless `localGrid: false`.
   */
  async coordinator(opts: { dataDir?: string; args?: string[]; grid?: string; localGrid?: boolean; env?: Record<string, string> } = {}): Promise<CoordinatorProcess> {
    const dataDir = opts.dataDir ?? this.tempDir('swarmgrid-coord-');
    const token = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', dataDir, '--init'], { encoding: 'utf8' }).trim();
    const local = opts.localGrid === false ? [] : ['--local-grid'];
    const p = this.spawn(['coordinator', '--data', dataDir, '--grid', opts.grid ?? this.grid, '--bootstrap', this.bootstrap, '--http-port', '0', '--json', ...local, ...(opts.args ?? [])], opts.env);
    const ready = await p.waitFor('coordinator-ready');
    return Object.assign(p, { key: ready.key as string, url: ready.http as string, dataDir, token });
  }

  async worker(opts: { threads?: number; args?: string[]; env?: Record<string, string>; grid?: string } = {}): Promise<GridProcess> {
    const p = this.spawn(['worker', '--grid', opts.grid ?? this.grid, '--bootstrap', this.bootstrap, '--threads', String(opts.threads ?? 1), '--json', ...(opts.args ?? [])], opts.env);
    await p.waitFor('worker-started');
    return p;
  }

  /** A lying volunteer (test/fixtures/faulty-worker.mjs): the real agent with outputs tampered. */
  async faultyWorker(env: { FAULT_MODE: string; FAULT_RATE?: string; FAULT_AFTER?: string; FAULT_SALT?: string }, threads = 1): Promise<GridProcess> {
    const script = fileURLToPath(new URL('../fixtures/faulty-worker.mjs', import.meta.url));
    const p = this.spawn(['--grid', this.grid, '--bootstrap', this.bootstrap, '--threads', String(threads)], env, script);
    await p.waitFor('worker-started');
    return p;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
    await this.dht?.destroy();
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
