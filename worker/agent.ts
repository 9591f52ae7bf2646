/**
 * The node volunteer: joins a grid topic on Hyperswarm as a client, connects to the coordinators
 * it finds (and keeps reconnecting to them), and runs their tasks in a Piscina pool, splitting
 * its slots between coordinators by weight. Custom job kinds run only for trusted coordinators,
 * from verified code bundles; with `idle`, tasks are taken only while the owner is not using
 * the machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamChannel, toHex } from '../proto/channel.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../proto/codec.js';
import { type DhtWatch, watchDht } from '../proto/dht-health.js';
import { type BootstrapNode, createSwarm, DEFAULT_GRID, gridTopic, type Swarm } from '../proto/discovery.js';
import { GridError } from '../proto/errors.js';
import { builtinKinds } from '../jobs/registry.js';
import { BlobCache } from './blob-cache.js';
import { CodeCache } from './code-cache.js';
import { WorkerErrors } from './errors.js';
import { FairShare } from './fair-share.js';
import { IdleMonitor, type IdleMonitorOptions } from './idle-monitor.js';
import { CoordinatorLink, type HeldTask, type LinkHost } from './link.js';
import { Reconnector } from './reconnect.js';
import { RunConditions } from './run-conditions.js';
import { Runner } from './runner.js';
import type { Schedule } from './schedule.js';

export const WORKER_VERSION = '0.1.0';

/**
 * While no coordinator is connected, the grid topic is looked up again after 1, 2, 4 s, then every
 * 4 s (±25 %): Hyperswarm alone looks again only every 10-12 min, so a volunteer started before its
 * coordinator (the usual order) would sit idle that long. A late coordinator is found within one
 * period plus a lookup. Once one is connected the search stops (Hyperswarm's own refresh goes on).
 */
const LOOKUP_MIN_MS = 1000;
const LOOKUP_MAX_MS = 4000;

export interface WorkerOptions {
  /** @defaultValue 'swarmgrid/public' */
  grid?: string;
  bootstrap?: BootstrapNode[];
  dhtHost?: string;
  /** Threads to run tasks on. @defaultValue all cores but one, at least 1 */
  threads: number;
  /** Tasks held per thread (queued + running). @defaultValue 2 */
  prefetchPerThread?: number;
  /** Weight per coordinator key (hex); others get weight 1. */
  shares?: Map<string, number>;
  /** Serve only these coordinators (hex keys); empty = any. */
  only?: Set<string>;
  /** Coordinators whose custom code this worker runs. */
  trust?: Set<string>;
  /** Run WASM kinds (sandboxed, from any coordinator). @defaultValue true */
  wasm?: boolean;
  /**
   * Join tokens by coordinator key (hex), for private coordinators. Each goes in the Hello to
   * its own coordinator only: a token is a secret, and other coordinators of the grid must not see it.
   */
  joinTokens?: Map<string, string>;
  /** Ceiling on this process's resident memory in MB; tasks running when it is crossed fail as out_of_memory. @defaultValue 0 (none) */
  maxMemoryMb?: number;
  /** Where verified code bundles are kept. @defaultValue a temporary directory, removed on close */
  codeCacheDir?: string;
  /** Take tasks only while the machine is otherwise idle. @defaultValue undefined (always) */
  idle?: Omit<IdleMonitorOptions, 'onChange'>;
  /** Compute only inside these time-of-day windows (local time); outside, pause as when busy. @defaultValue always */
  schedule?: Schedule;
  /** Pause while the machine runs on battery (Linux; `dir` replaces /sys/class/power_supply, a test hook). @defaultValue off */
  notOnBattery?: { dir?: string };
  keyPair?: { publicKey: Buffer; secretKey: Buffer };
  maxFrameBytes?: number;
  /**
   * Fault injection, for tests and drills of the cross-checking: may replace a task's output
   * before it is sent. Never set in production.
   */
  /**
   * Called once when a coordinator refuses this worker because another live process uses its
   * identity (GRID_ERR_DUPLICATE_IDENTITY, a copied --data): the worker stops dialling that
   * coordinator; the CLI exits. @defaultValue only logged
   */
  onIdentityInUse?: (err: GridError) => void;
  /**
   * Warn (GRID_ERR_NO_COORDINATOR) when no coordinator was found this long after the start; the
   * worker keeps looking. 0 = never. @defaultValue 30000
   */
  coordinatorTimeoutMs?: number;
  /**
   * Called with each warning (GRID_ERR_DHT_UNREACHABLE, GRID_ERR_NO_COORDINATOR), besides the
   * log event: the CLI prints them on a terminal, where the log is off. @defaultValue only logged
   */
  onWarning?: (err: GridError) => void;
  tamper?: (task: { kind: string; batchId: string; seq: number; taskId: number }, output: Uint8Array) => Uint8Array;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export type WorkerState = 'working' | 'waiting' | 'paused';

export class WorkerAgent implements LinkHost {
  readonly threads: number;
  readonly version = WORKER_VERSION;
  readonly kinds = [...builtinKinds.values()].map((k) => `${k.name}@${k.version}`);
  readonly links = new Map<string, CoordinatorLink>();
  readonly runner: Runner;
  readonly code: CodeCache;
  /** Drawn once per process: lets a coordinator tell a second process with our identity from us redialling. */
  readonly instance = new Uint8Array(randomBytes(16));
  /** Coordinators that refused us as a duplicate identity: never dialled again. */
  readonly #refusedBy = new Set<string>();
  /** Inputs fetched as blobs, by hash (a task handed back and sent again, another coordinator's copy). */
  readonly blobs = new BlobCache();
  stats = { tasksDone: 0, cpuMs: 0, errors: 0 };
  paused = false;
  #opts: WorkerOptions;
  #swarm?: Swarm;
  #closing?: Promise<void>;
  #share = new FairShare<string>();
  #reconnect: Reconnector;
  #discovery?: { refresh(): Promise<unknown> };
  #lookupTimer: NodeJS.Timeout | undefined;
  #lookups = 0;
  #idle?: IdleMonitor;
  #conditions?: RunConditions;
  /** Why the worker is held back, per condition (idle, schedule, battery): it works when none holds. */
  #holds = new Map<string, string>();
  #dhtWatch?: DhtWatch;
  #noCoordinatorTimer: NodeJS.Timeout | undefined;
  #tempCache?: string;
  /** Tasks started and not finished, code fetches included: what the thread limit counts. */
  #active = 0;

  constructor(options: WorkerOptions) {
    this.#opts = options;
    this.threads = options.threads;
    this.runner = new Runner({ threads: options.threads, maxRssMb: options.maxMemoryMb ?? 0, backlog: () => this.#backlog() });
    if (!options.codeCacheDir) this.#tempCache = mkdtempSync(join(tmpdir(), 'swarmgrid-code-'));
    this.code = new CodeCache({ dir: options.codeCacheDir ?? this.#tempCache! });
    this.#reconnect = new Reconnector({
      dial: (key) => this.#swarm?.swarm.joinPeer(Buffer.from(key, 'hex')),
      log: (event, fields) => this.log(event, fields),
    });
    if (options.idle) {
      this.#idle = new IdleMonitor({
        ...options.idle,
        onChange: (state, load) => {
          this.log(state === 'busy' ? 'host-busy' : 'host-idle', { load: Math.round(load * 100) / 100 });
          this.#hold('idle', state === 'busy' ? 'host busy' : null);
        },
      });
    }
    if (options.schedule || options.notOnBattery) {
      this.#conditions = new RunConditions({
        ...(options.schedule && { schedule: options.schedule }),
        ...(options.notOnBattery && { notOnBattery: options.notOnBattery }),
        onChange: (condition, reason) => {
          const event = condition === 'schedule' ? (reason ? 'schedule-closed' : 'schedule-open') : (reason ? 'power-battery' : 'power-mains');
          this.log(event, { ...(reason && { reason }) });
          this.#hold(condition, reason);
        },
      });
    }
  }

  /**
   * Sets or clears one reason to hold back (the machine busy, outside the schedule, on battery):
   * the worker pauses while any holds and resumes when none does.
   */
  #hold(condition: string, reason: string | null): void {
    if (reason) this.#holds.set(condition, reason);
    else this.#holds.delete(condition);
    if (this.#holds.size > 0) this.pause([...this.#holds.values()].join('; '));
    else this.resume();
  }

  /** Why the worker is paused (the conditions holding it back), or undefined while it may work. */
  get pausedFor(): string | undefined {
    return this.#holds.size > 0 ? [...this.#holds.values()].join('; ') : undefined;
  }

  get publicKey(): string | undefined {
    return this.#swarm ? toHex(this.#swarm.swarm.keyPair.publicKey) : undefined;
  }

  get state(): WorkerState {
    if (this.paused) return 'paused';
    return this.#active > 0 ? 'working' : 'waiting';
  }

  /** The non-grid load of the last sample (idle-only mode), 0 … 1. */
  get hostLoad(): number | undefined {
    return this.#idle?.lastLoad;
  }

  log(event: string, fields: Record<string, unknown>): void {
    this.#opts.log?.(event, fields);
  }

  trusts(key: string): boolean {
    return this.#opts.trust?.has(key) ?? false;
  }

  get runsWasm(): boolean {
    return this.#opts.wasm ?? true;
  }

  joinToken(key: string): string {
    return this.#opts.joinTokens?.get(key) ?? '';
  }

  /** Tasks held and not started yet: lets the runner size its last batches so threads end together. */
  #backlog(): number {
    let n = 0;
    for (const link of this.links.values()) for (const held of link.held.values()) if (held.state === 'queued') n++;
    return n;
  }

  #weight(key: string): number {
    return this.#opts.shares?.get(key) ?? 1;
  }

  prefetchFor(link: CoordinatorLink): number {
    if (this.paused) return 0;
    const connected = [...this.links.values()].filter((l) => l.connected);
    const total = connected.reduce((sum, l) => sum + this.#weight(l.key), 0) || 1;
    // The runner raises this for tiny tasks: enough held to cover a round trip (runner.ts).
    const slots = this.runner.prefetch(this.#opts.prefetchPerThread ?? 2);
    return Math.max(1, Math.round((slots * this.#weight(link.key)) / total));
  }

  async start(): Promise<void> {
    this.runner.warm();
    this.#swarm = createSwarm({
      ...(this.#opts.bootstrap && { bootstrap: this.#opts.bootstrap }),
      ...(this.#opts.dhtHost && { host: this.#opts.dhtHost }),
      ...(this.#opts.keyPair && { keyPair: this.#opts.keyPair }),
    });
    await this.#swarm.bound;
    const swarm = this.#swarm.swarm;
    const only = this.#opts.only && this.#opts.only.size > 0 ? this.#opts.only : undefined;
    swarm.on('connection', (conn, info) => {
      conn.on('error', () => {});
      const key = toHex(conn.remotePublicKey);
      if (!info.client || (only && !only.has(key)) || this.#refusedBy.has(key)) {
        // Workers only dial coordinators. One we were told to skip is banned, so Hyperswarm
        // does not keep dialling it every time the topic is refreshed.
        if (info.client) info.ban(true);
        if (info.client && only && !only.has(key)) this.log('coordinator-skipped', { coordinator: key });
        conn.destroy();
        return;
      }
      // Once met, a coordinator is an explicit peer: redialled by key when it goes away.
      swarm.joinPeer(conn.remotePublicKey);
      this.#reconnect.connected(key);
      let link = this.links.get(key);
      if (!link) {
        link = new CoordinatorLink(key, this);
        this.links.set(key, link);
      }
      link.attach(StreamChannel.fromHyperswarm(conn, this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES));
      for (const other of this.links.values()) other.topUpCredit();
    });
    this.#watchDiscovery();
    this.#discovery = swarm.join(gridTopic(this.#opts.grid ?? DEFAULT_GRID), { client: true, server: false });
    this.#searchForCoordinators();
    // Named coordinators are dialled by key at once, without waiting for the topic lookup.
    for (const key of only ?? []) swarm.joinPeer(Buffer.from(key, 'hex'));
    if (this.#idle) {
      // Not yet seen idle: start paused, as BOINC does, until the machine proves quiet.
      this.#hold('idle', 'waiting for the machine to be idle');
      this.#idle.start();
    }
    // Checked at once: a worker started outside its schedule or on battery takes nothing.
    this.#conditions?.start();
    this.log('worker-started', {
      key: this.publicKey, threads: this.threads, grid: this.#opts.grid ?? DEFAULT_GRID, pid: process.pid, maxMemoryMb: this.#opts.maxMemoryMb ?? 0,
      ...(this.#idle && { idleOnly: true }), ...(this.#opts.schedule && { schedule: this.#opts.schedule.spec }),
      ...(this.#opts.notOnBattery && { notOnBattery: true }), codeCache: this.code.dir,
    });
  }

  warn(event: string, err: GridError, fields: Record<string, unknown> = {}): void {
    this.log(event, { code: err.code, message: err.message, ...fields });
    this.#opts.onWarning?.(err);
  }

  /**
   * A wrong --grid or a dead --bootstrap looks like an empty grid: say which it is. The DHT
   * answering is checked once bootstrapped; a coordinator not found after coordinatorTimeoutMs
   * is said once (with the hint), and the search goes on.
   */
  #watchDiscovery(): void {
    const bootstrap = this.#opts.bootstrap?.map((b) => `${b.host}:${b.port}`).join(',');
    this.#dhtWatch = watchDht(this.#swarm!.dht, {
      ...(bootstrap && { bootstrap }),
      onUnreachable: (err) => this.warn('dht-unreachable', err),
      onReachable: () => this.log('dht-reachable', {}),
    });
    const timeoutMs = this.#opts.coordinatorTimeoutMs ?? 30_000;
    if (timeoutMs <= 0) return;
    this.#noCoordinatorTimer = setTimeout(() => {
      if (this.#closing || this.links.size > 0) return;
      const grid = this.#opts.grid ?? DEFAULT_GRID;
      this.warn('no-coordinator', WorkerErrors.NO_COORDINATOR(grid, Math.round(timeoutMs / 1000)), { grid, ...(bootstrap && { bootstrap }) });
    }, timeoutMs);
    this.#noCoordinatorTimer.unref();
  }

  linkLost(link: CoordinatorLink): void {
    if (this.#closing || this.#refusedBy.has(link.key)) return;
    this.#reconnect.lost(link.key);
    // Lost the last one: it may come back under another key, or another may be up by now.
    this.#searchForCoordinators();
  }

  /** Looks the grid topic up again on a short backoff until a coordinator welcomes us (LOOKUP_MIN_MS). */
  #searchForCoordinators(): void {
    if (this.#closing || this.#lookupTimer || [...this.links.values()].some((l) => l.connected)) return;
    this.#lookups = 0;
    const next = () => {
      const base = Math.min(LOOKUP_MAX_MS, LOOKUP_MIN_MS * 2 ** this.#lookups);
      this.#lookupTimer = setTimeout(() => {
        this.#lookupTimer = undefined;
        if (this.#closing || [...this.links.values()].some((l) => l.connected)) return;
        this.#lookups++;
        this.#discovery?.refresh().catch(() => {});
        next();
      }, Math.round(base * (0.75 + Math.random() * 0.5)));
      this.#lookupTimer.unref();
    };
    next();
  }

  identityInUse(link: CoordinatorLink, message: string): void {
    if (this.#refusedBy.has(link.key)) return;
    this.#refusedBy.add(link.key);
    // Redialling would only knock the other process off again: stop, and say why.
    this.#reconnect.forget(link.key);
    // Banned too: a topic lookup that finds it again must not dial it (each dial knocks the
    // other process off).
    this.#swarm?.swarm.peers.get(link.key)?.ban(true);
    this.#swarm?.swarm.leavePeer(Buffer.from(link.key, 'hex'));
    const err = new GridError('GRID_ERR_DUPLICATE_IDENTITY', message, 409);
    this.log('duplicate-identity', {
      coordinator: link.key, key: this.publicKey, message,
      hint: 'another worker process uses this identity (its --data was copied): start each worker with its own --data',
    });
    this.#opts.onIdentityInUse?.(err);
  }

  linkWelcomed(link: CoordinatorLink): void {
    this.#reconnect.welcomed(link.key);
  }

  /** Starts queued tasks while threads are free, choosing links by weighted fair share. */
  pump(): void {
    // runner.slots = threads, or more while tasks are short and the runner batches them.
    while (!this.paused && this.#active < this.runner.slots) {
      const next = new Map<string, [number, HeldTask]>();
      for (const l of this.links.values()) {
        const q = firstQueued(l);
        if (q) next.set(l.key, q);
      }
      const key = this.#share.pick([...next.keys()].map((k) => ({ key: k, weight: this.#weight(k) })));
      if (key === undefined) return;
      const [id, held] = next.get(key)!;
      void this.#run(this.links.get(key)!, id, held);
    }
  }

  async #run(link: CoordinatorLink, id: number, held: HeldTask): Promise<void> {
    held.state = 'handed';
    link.served++;
    this.#active++;
    try {
      const t = held.task;
      let codePath: string | undefined;
      let wasm = false;
      if (t.codeHash && t.codeHash.length > 0) {
        try {
          codePath = await this.code.obtain(link, t.codeHash, t.kind ?? '');
          // The runtime follows the bundle's own bytes, never the task's word: a JS bundle sent
          // as "wasm" to a volunteer that does not trust its coordinator is declined unrun.
          wasm = this.code.isWasm(codePath);
          if (!wasm && !this.trusts(link.key)) throw WorkerErrors.UNTRUSTED_CODE(`${t.kind ?? ''}@${t.kindVersion ?? ''}`, link.key);
        } catch (err) {
          this.#codeFailed(link, id, t.kind ?? '', err as GridError);
          return;
        }
        if (link.held.get(id) !== held) return; // cancelled or handed back meanwhile
      }
      let input = t.input ?? new Uint8Array(0);
      if (t.inputHash && t.inputHash.length > 0) {
        try {
          input = await this.#input(link, id, held);
        } catch (err) {
          if (link.held.get(id) !== held) return; // cancelled or handed back meanwhile
          this.log('input-unavailable', { coordinator: link.key, task: id, error: (err as Error).message });
          return link.returnTasks([id], (err as Error).message);
        }
        if (link.held.get(id) !== held) return;
      }
      const outcome = await this.runner.run({
        kind: t.kind ?? '',
        input,
        timeoutMs: t.timeoutMs ?? 0,
        // Without a policy timeout, a task is stopped one lease length after it starts; one
        // whose lease ran out before a thread was free is handed back unrun.
        ...(t.leaseMs ? { leaseMs: t.leaseMs, leaseEndsAt: held.receivedAt + t.leaseMs } : {}),
        memoryMb: t.memoryMb ?? 0,
        signal: held.controller.signal,
        onStart: () => { held.state = 'running'; },
        onWait: () => { held.state = 'handed'; },
        ...(codePath && { codePath }),
        ...(wasm && { wasm: true, codeHash: Buffer.from(t.codeHash!).toString('hex') }),
      });
      if (outcome.ok === false && outcome.errorCode === 'aborted') return;
      if (outcome.ok === false && outcome.unstarted) return link.returnTasks([id], outcome.message);
      this.stats.tasksDone++;
      this.stats.cpuMs += outcome.cpuMs;
      if (!outcome.ok) {
        this.stats.errors++;
        this.log('task-failed', { coordinator: link.key, kind: t.kind, task: id, error: outcome.errorCode, message: outcome.message });
      }
      const output = outcome.ok && this.#opts.tamper
        ? this.#opts.tamper({ kind: t.kind ?? '', batchId: t.batchId ?? '', seq: Number(t.seq ?? 0), taskId: id }, outcome.output)
        : outcome.ok ? outcome.output : undefined;
      link.complete(id, outcome.ok
        ? { taskId: id, output, cpuMs: outcome.cpuMs }
        : { taskId: id, errorCode: outcome.errorCode, errorMessage: outcome.message, cpuMs: outcome.cpuMs });
    } finally {
      this.#active--;
      this.pump();
    }
  }

  /** A task's input sent as a blob: from the cache by hash, else fetched (and kept). */
  async #input(link: CoordinatorLink, id: number, held: HeldTask): Promise<Uint8Array> {
    const { inputHash, inputSize } = held.task;
    const cached = this.blobs.get(inputHash!);
    if (cached) return cached;
    const input = await link.fetchInput(id, inputHash!, inputSize ?? 0, held.controller.signal);
    this.blobs.put(inputHash!, input);
    return input;
  }

  /**
   * A bundle that fails its hash or signature check is refused for good: every task of that kind
   * is declined with the reason, and the coordinator stops offering it. Anything else — a bundle
   * that could not be fetched (the coordinator went away), a code cache on a full or failing disk —
   * is no verdict on the code: the task is handed back.
   */
  #codeFailed(link: CoordinatorLink, id: number, kind: string, err: GridError): void {
    if (!link.held.has(id)) return; // declined along with a sibling task already, or cancelled
    const reason = `${err.code ?? 'GRID_ERR_CODE'}: ${err.message}`;
    this.log('code-refused', { coordinator: link.key, kind, reason });
    if (err.code !== 'GRID_ERR_CODE_HASH_MISMATCH' && err.code !== 'GRID_ERR_CODE_SIGNATURE' && err.code !== 'GRID_ERR_UNTRUSTED_CODE') return link.returnTasks([id], reason);
    link.declineKind(kind, [...link.held].filter(([, h]) => h.task.kind === kind).map(([taskId]) => taskId), reason);
    link.topUpCredit();
  }

  /**
   * Stops taking tasks and hands queued ones back (the owner got busy). Running tasks finish:
   * they run at the lowest priority, so they only use what the owner leaves.
   */
  pause(reason: string): void {
    if (this.paused) return;
    this.paused = true;
    for (const link of this.links.values()) link.returnQueued(reason);
    this.log('worker-paused', { reason });
  }

  resume(): void {
    if (!this.paused || this.#closing) return;
    this.paused = false;
    for (const link of this.links.values()) link.topUpCredit();
    this.log('worker-resumed', {});
    this.pump();
  }

  /**
   * Graceful shutdown: waits briefly for results already sent to be acknowledged, hands every
   * held task back with Goodbye, then leaves the swarm. Idempotent.
   */
  close(opts: { graceMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      this.paused = true;
      this.#idle?.close();
      this.#conditions?.close();
      this.#reconnect.close();
      clearTimeout(this.#lookupTimer);
      clearTimeout(this.#noCoordinatorTimer);
      this.#dhtWatch?.stop();
      const deadline = Date.now() + (opts.graceMs ?? 1000);
      while (Date.now() < deadline && [...this.links.values()].some((l) => l.connected && l.unacked.size > 0)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const link of this.links.values()) {
        const returned = link.goodbye('worker shutting down');
        this.log('worker-goodbye', { coordinator: link.key, returned: returned.length });
      }
      // Give the Goodbye frames a moment to leave before the streams are torn down.
      await new Promise((r) => setTimeout(r, 50));
      for (const link of this.links.values()) link.close();
      await this.#swarm?.destroy();
      await this.runner.close();
      if (this.#tempCache) rmSync(this.#tempCache, { recursive: true, force: true });
    })();
    return this.#closing;
  }
}

/** The oldest task a link holds that was not handed to the runner yet (no copies of the map). */
function firstQueued(link: CoordinatorLink): [number, HeldTask] | undefined {
  for (const entry of link.held) if (entry[1].state === 'queued') return entry;
  return undefined;
}
