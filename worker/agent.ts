/**
 * The node volunteer: joins a grid topic on Hyperswarm as a client, connects to the coordinators
 * it finds (and keeps reconnecting to them), and runs their tasks in a Piscina pool, splitting
 * its slots between coordinators by weight.
 */
import { StreamChannel, toHex } from '../proto/channel.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../proto/codec.js';
import { type BootstrapNode, createSwarm, DEFAULT_GRID, gridTopic, type Swarm } from '../proto/discovery.js';
import { builtinKinds } from '../jobs/registry.js';
import { CoordinatorLink, type HeldTask, type LinkHost } from './link.js';
import { Runner } from './runner.js';

export const WORKER_VERSION = '0.1.0';

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
  keyPair?: { publicKey: Buffer; secretKey: Buffer };
  maxFrameBytes?: number;
  /**
   * Fault injection, for tests and drills of the cross-checking: may replace a task's output
   * before it is sent. Never set in production.
   */
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
  stats = { tasksDone: 0, cpuMs: 0, errors: 0 };
  paused = false;
  #opts: WorkerOptions;
  #swarm?: Swarm;
  #closing?: Promise<void>;

  constructor(options: WorkerOptions) {
    this.#opts = options;
    this.threads = options.threads;
    this.runner = new Runner({ threads: options.threads });
  }

  get publicKey(): string | undefined {
    return this.#swarm ? toHex(this.#swarm.swarm.keyPair.publicKey) : undefined;
  }

  get state(): WorkerState {
    if (this.paused) return 'paused';
    return this.runner.running > 0 ? 'working' : 'waiting';
  }

  log(event: string, fields: Record<string, unknown>): void {
    this.#opts.log?.(event, fields);
  }

  trusts(key: string): boolean {
    return this.#opts.trust?.has(key) ?? false;
  }

  #weight(key: string): number {
    return this.#opts.shares?.get(key) ?? 1;
  }

  prefetchFor(link: CoordinatorLink): number {
    if (this.paused) return 0;
    const connected = [...this.links.values()].filter((l) => l.connected);
    const total = connected.reduce((sum, l) => sum + this.#weight(l.key), 0) || 1;
    const slots = this.threads * (this.#opts.prefetchPerThread ?? 2);
    return Math.max(1, Math.round((slots * this.#weight(link.key)) / total));
  }

  async start(): Promise<void> {
    this.runner.warm();
    this.#swarm = createSwarm({
      ...(this.#opts.bootstrap && { bootstrap: this.#opts.bootstrap }),
      ...(this.#opts.dhtHost && { host: this.#opts.dhtHost }),
      ...(this.#opts.keyPair && { keyPair: this.#opts.keyPair }),
    });
    const swarm = this.#swarm.swarm;
    swarm.on('connection', (conn, info) => {
      conn.on('error', () => {});
      const key = toHex(conn.remotePublicKey);
      if (!info.client || (this.#opts.only && this.#opts.only.size > 0 && !this.#opts.only.has(key))) {
        // Workers only dial coordinators; an inbound peer or a coordinator we were told to skip is not served.
        conn.destroy();
        return;
      }
      // Once met, a coordinator is an explicit peer: Hyperswarm keeps redialling it with backoff.
      swarm.joinPeer(conn.remotePublicKey);
      let link = this.links.get(key);
      if (!link) {
        link = new CoordinatorLink(key, this);
        this.links.set(key, link);
      }
      link.attach(StreamChannel.fromHyperswarm(conn, this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES));
      for (const other of this.links.values()) other.topUpCredit();
    });
    swarm.join(gridTopic(this.#opts.grid ?? DEFAULT_GRID), { client: true, server: false });
    this.log('worker-started', { key: this.publicKey, threads: this.threads, grid: this.#opts.grid ?? DEFAULT_GRID });
  }

  /** Starts queued tasks while threads are free, choosing links by weighted fair share. */
  pump(): void {
    if (this.paused) return;
    while (this.runner.running < this.threads) {
      const next = this.#nextTask();
      if (!next) return;
      void this.#run(next.link, next.id, next.held);
    }
  }

  #nextTask(): { link: CoordinatorLink; id: number; held: HeldTask } | undefined {
    let best: { link: CoordinatorLink; id: number; held: HeldTask } | undefined;
    let bestScore = Infinity;
    for (const link of this.links.values()) {
      const score = link.served / this.#weight(link.key);
      if (score >= bestScore) continue;
      for (const [id, held] of link.held) {
        if (held.state !== 'queued') continue;
        best = { link, id, held };
        bestScore = score;
        break;
      }
    }
    return best;
  }

  async #run(link: CoordinatorLink, id: number, held: HeldTask): Promise<void> {
    held.state = 'running';
    link.served++;
    const t = held.task;
    const outcome = await this.runner.run({
      kind: t.kind ?? '',
      input: t.input ?? new Uint8Array(0),
      timeoutMs: t.timeoutMs ?? 0,
      memoryMb: t.memoryMb ?? 0,
      signal: held.controller.signal,
    });
    if (!(outcome.ok === false && outcome.errorCode === 'aborted')) {
      this.stats.tasksDone++;
      this.stats.cpuMs += outcome.cpuMs;
      if (!outcome.ok) this.stats.errors++;
      const output = outcome.ok && this.#opts.tamper
        ? this.#opts.tamper({ kind: t.kind ?? '', batchId: t.batchId ?? '', seq: Number(t.seq ?? 0), taskId: id }, outcome.output)
        : outcome.ok ? outcome.output : undefined;
      link.complete(id, outcome.ok
        ? { taskId: id, output, cpuMs: outcome.cpuMs }
        : { taskId: id, errorCode: outcome.errorCode, errorMessage: outcome.message, cpuMs: outcome.cpuMs });
    }
    this.pump();
  }

  /** Stops taking tasks and hands queued ones back (the owner got busy). */
  pause(reason: string): void {
    if (this.paused) return;
    this.paused = true;
    for (const link of this.links.values()) link.returnQueued(reason);
    this.log('worker-paused', { reason });
  }

  resume(): void {
    if (!this.paused) return;
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
    })();
    return this.#closing;
  }
}
