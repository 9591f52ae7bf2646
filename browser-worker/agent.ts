/**
 * The browser volunteer: the link to the coordinator that served the page, a pool of Web Workers
 * (one per donated core), pause/resume, and the numbers the page shows. The counterpart of
 * worker/agent.ts, without Hyperswarm (a browser cannot join it) and for one coordinator.
 */
import { builtinKinds } from '../jobs/registry.js';
import { BundleCache } from './code-bundles.js';
import { type HeldTask, type LinkHost, VolunteerLink } from './link.js';
import { TASKS_PER_WORKER, WorkerPool } from './pool.js';
import { RateMeter } from '../proto/rate-meter.js';

export const BROWSER_VERSION = '0.1.0';

export interface AgentOptions {
  /** ws(s)://host/v1/volunteer?id=… */
  url: string;
  /** Cores to use. */
  threads: number;
  /** The bundled task-worker script. */
  workerUrl: string;
  /** Tasks held per core (queued + running) at least, and before any task ran. @defaultValue 2 */
  prefetchPerThread?: number;
  /**
   * Work to hold per core, in ms of recent task time: short tasks are held
   * `ceil(prefetchMs / task ms)` per core (at most 64), so that a round trip to the coordinator
   * never leaves a core idle. The node runner's rule (worker/runner.ts); the wait of finished
   * results for their Result frame (`resultDelayMs`) comes on top. @defaultValue 25
   */
  prefetchMs?: number;
  /** See `LinkOptions.resultDelayMs`. @defaultValue 20 */
  resultDelayMs?: number;
}

/** Most tasks held per core, however short they are. */
const MAX_PREFETCH_PER_THREAD = 64;

/** Tasks shorter than this (smoothed wall time, ms) are queued two to a task worker. */
const QUEUE_IN_WORKER_BELOW_MS = 1000;

/** What the page shows. */
export interface AgentSnapshot {
  connection: VolunteerLink['state'];
  paused: boolean;
  threads: number;
  busy: boolean[];
  tasksDone: number;
  errors: number;
  cpuMs: number;
  ratePerSecond: number;
  /** The task most recently started: its batch and job kind. */
  current: { batchId: string; kind: string } | null;
  held: number;
  unacked: number;
  lastError: string;
  retryAt: number;
  coordinatorKey: string;
}

export class BrowserAgent implements LinkHost {
  readonly version = BROWSER_VERSION;
  readonly kinds = [...builtinKinds.values()].map((k) => `${k.name}@${k.version}`);
  readonly link: VolunteerLink;
  readonly pool: WorkerPool;
  /** Tasks done over the last 10 s: the page's live rate. */
  readonly rate = new RateMeter(10_000);
  stats = { tasksDone: 0, errors: 0, cpuMs: 0 };
  paused = false;
  current: { batchId: string; kind: string } | null = null;
  #prefetchPerThread: number;
  #prefetchMs: number;
  /** Tasks between being started and reaching the pool: fetching their input. */
  #fetching = 0;
  /** WASM kinds' verified code bundles, by hash. */
  #bundles = new BundleCache();
  /** Smoothed wall time of a task on a core, ms, from its start in its worker to its outcome here. */
  #recentMs: number | undefined;
  /** The same per batch (the latest few batches: a volunteer serves one or two at a time). */
  #batchMs = new Map<string, number>();

  constructor(options: AgentOptions) {
    this.#prefetchPerThread = options.prefetchPerThread ?? 2;
    const resultDelayMs = options.resultDelayMs ?? 20;
    this.#prefetchMs = (options.prefetchMs ?? 25) + resultDelayMs;
    this.pool = new WorkerPool({ size: options.threads, scriptUrl: options.workerUrl });
    this.link = new VolunteerLink(this, { url: options.url, resultDelayMs });
  }

  get threads(): number {
    return this.pool.size;
  }

  start(): void {
    this.link.start();
  }

  /** Tasks worth holding (queued + running) now: see `AgentOptions.prefetchMs`. */
  prefetch(): number {
    if (this.paused) return 0;
    if (this.#recentMs === undefined) return this.threads * this.#prefetchPerThread;
    const cover = Math.ceil(this.#prefetchMs / Math.max(this.#recentMs, 0.01));
    return this.threads * Math.max(this.#prefetchPerThread, Math.min(cover, MAX_PREFETCH_PER_THREAD));
  }

  snapshot(): AgentSnapshot {
    return {
      connection: this.link.state,
      paused: this.paused,
      threads: this.threads,
      busy: this.pool.busyFlags,
      tasksDone: this.stats.tasksDone,
      errors: this.stats.errors,
      cpuMs: this.stats.cpuMs,
      // From the first task on (a span under a second counts as one), not after two seconds.
      ratePerSecond: this.rate.perSecond(Date.now(), undefined, 0) ?? 0,
      current: this.current,
      held: this.link.held.size,
      unacked: this.link.unacked.size,
      lastError: this.link.lastError,
      retryAt: this.link.retryAt,
      coordinatorKey: this.link.coordinatorKey,
    };
  }

  /** Starts queued tasks while workers are free. Running tasks keep going during a pause. */
  pump(): void {
    if (this.paused) return;
    // Tasks still fetching their input (blobs) hold a place too: pool.run comes after the fetch.
    for (;;) {
      const next = this.#nextQueued();
      if (!next || this.pool.inFlight + this.#fetching >= this.pool.size * this.#tasksPerWorker(next[1].task.batchId ?? '')) break;
      void this.#run(next[0], next[1]);
    }
  }

  /**
   * Tasks handed to each task worker: short ones two (one runs, the next waits inside the worker
   * and starts without a round trip to this worker, about 3 ms a task); long ones, or before any
   * task ended, one, so that a pause leaves no long task waiting to run (the round trip is
   * nothing next to such a task). Judged by the task's own batch as well as by the latest tasks:
   * a batch of long tasks after one of short ones must not get two of its tasks to a worker,
   * where the second would wait a whole task, past its lease.
   */
  #tasksPerWorker(batchId: string): number {
    const batchMs = this.#batchMs.get(batchId);
    const short = (ms: number | undefined) => ms !== undefined && ms < QUEUE_IN_WORKER_BELOW_MS;
    return short(this.#recentMs) && short(batchMs) ? TASKS_PER_WORKER : 1;
  }

  #nextQueued(): [number, HeldTask] | undefined {
    for (const entry of this.link.held) if (entry[1].state === 'queued') return entry;
    return undefined;
  }

  async #run(id: number, held: HeldTask): Promise<void> {
    held.state = 'running';
    const t = held.task;
    this.current = { batchId: t.batchId ?? '', kind: t.kind ?? '' };
    let wasm: { codeHash: Uint8Array; bundle: Uint8Array; memoryMb: number } | undefined;
    if (t.codeHash && t.codeHash.length > 0) {
      // Custom code: only a WASM kind's bundle, verified, is ever run here (code-bundles.ts).
      this.#fetching++;
      let failed: Error | undefined;
      try {
        wasm = { codeHash: t.codeHash, bundle: await this.#bundles.obtain(this.link, t.codeHash), memoryMb: t.memoryMb ?? 0 };
      } catch (err) {
        failed = err as Error;
      } finally {
        this.#fetching--;
      }
      if (failed) {
        if (this.link.held.get(id) === held) {
          // A bundle that fails a check is refused for good; one that could not be fetched goes back.
          if (/^GRID_ERR_/.test(failed.message)) this.link.declineKind(t.kind ?? '', [id], failed.message);
          else this.link.returnTasks([id], failed.message);
        }
        this.pump();
        return;
      }
    }
    let input = t.input ?? new Uint8Array(0);
    if (t.inputHash && t.inputHash.length > 0) {
      // Too big for a frame: fetched as a blob (proto/payloads.ts) before it runs.
      this.#fetching++;
      let failed: Error | undefined;
      try {
        input = await this.link.fetchInput(id, t.inputHash, t.inputSize ?? 0, held.controller.signal);
      } catch (err) {
        failed = err as Error;
      } finally {
        this.#fetching--;
      }
      if (failed) {
        if (this.link.held.get(id) === held) this.link.returnTasks([id], failed.message);
        this.pump();
        return;
      }
    }
    let outcome: Awaited<ReturnType<WorkerPool['run']>>;
    try {
      outcome = await this.pool.run({
        kind: t.kind ?? '',
        input,
        // Without a policy limit, a task stuck past three leases is long since re-issued elsewhere:
        // free the core rather than hold it forever.
        timeoutMs: t.timeoutMs || (t.leaseMs ?? 0) * 3,
        signal: held.controller.signal,
        ...(wasm && { wasm }),
      });
    } catch (err) {
      // No room after all (the pool shrank, setThreads, while this task fetched its input or
      // bundle): hand it back rather than hold it unrun until its lease runs out.
      if (this.link.held.get(id) === held) this.link.returnTasks([id], (err as Error).message);
      this.pump();
      return;
    }
    if (!(outcome.ok === false && outcome.errorCode === 'aborted')) {
      // From the task's own start in its worker: not the time it waited there behind another.
      const ms = outcome.wallMs;
      this.#recentMs = this.#recentMs === undefined ? ms : 0.8 * this.#recentMs + 0.2 * ms;
      const batchId = t.batchId ?? '';
      const before = this.#batchMs.get(batchId);
      this.#batchMs.delete(batchId); // re-inserted last: the map keeps the latest batches
      this.#batchMs.set(batchId, before === undefined ? ms : 0.8 * before + 0.2 * ms);
      if (this.#batchMs.size > 16) this.#batchMs.delete(this.#batchMs.keys().next().value!);
      this.stats.tasksDone++;
      this.stats.cpuMs += outcome.cpuMs;
      if (!outcome.ok) this.stats.errors++;
      this.rate.record(Date.now());
      this.link.complete(id, outcome.ok
        ? { taskId: id, output: outcome.output, cpuMs: outcome.cpuMs }
        : { taskId: id, errorCode: outcome.errorCode, errorMessage: outcome.message, cpuMs: outcome.cpuMs });
    }
    this.pump();
  }

  /** Stop taking tasks: queued ones go back to the coordinator, running ones finish. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.link.returnQueued('paused by the volunteer');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.rate.reset();
    this.link.topUpCredit();
    this.pump();
  }

  /** Uses more or fewer cores from now on. */
  setThreads(threads: number): void {
    this.pool.resize(threads);
    this.link.topUpCredit();
    this.pump();
  }

  /** The page is going away: hand everything back (Goodbye) and stop the workers. */
  leave(reason: string): void {
    this.link.goodbye(reason);
    this.pool.close();
  }
}
