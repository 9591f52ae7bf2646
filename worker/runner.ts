/**
 * Runs tasks in Piscina worker-thread pools, one pool per heap limit (a task's memory limit is a
 * property of the thread it runs in), and tasks of custom kinds in task processes, one pool per
 * heap limit too (task-processes.ts: there a heap blow-up costs that task only). At most
 * `threads` calls are in flight; the rest wait here, in order. Every task has a time limit (the
 * policy's, else its lease length, else `defaultTimeoutMs`); reaching it, or a cancel, aborts the
 * task (Piscina terminates its thread, a task process is killed) and the pool carries on.
 *
 * Short tasks are batched: when a job kind's recent tasks were measured well under `batchMs`, queued tasks
 * of such kinds go to a thread several at a time (about `batchMs` of work per call), with their
 * inputs packed into one transferred buffer (batching.ts). Their results then come back together,
 * so one Result frame, one SQLite commit at the coordinator and one Assign serve several tasks:
 * the per-task cost of the protocol (hundreds of microseconds for a task sent alone, measured in
 * BENCHMARKS.md) is shared. `slots` and `prefetch()` tell the agent how many tasks to hand over
 * and to hold so that the threads never wait on the network.
 *
 * Heap limits do not cover ArrayBuffers: the process's resident memory has a ceiling too
 * (`maxRssMb`, memory-ceiling.ts); crossing it stops the task process holding the most (when it
 * holds more than the worker itself) or else the running tasks, as out_of_memory (a stopped
 * batch runs again task by task, so that only the culprit is reported).
 */
import { Piscina } from 'piscina';
import { batchSize, ownBytes, packBatch, smooth, takeBatch, timesByKey } from './batching.js';
import { MemoryCeiling } from './memory-ceiling.js';
import { rssOf, type TaskProcess, TaskProcessPool } from './task-processes.js';
import { aborted, failure, type RunOutcome, toOutcome } from './outcomes.js';
import type { ThreadResult, ThreadTask } from './task-thread.js';

export type { RunOutcome } from './outcomes.js';

export interface RunnerOptions {
  threads: number;
  /** Heap limit for tasks whose policy sets none, in MB. @defaultValue 1024 */
  defaultMemoryMb?: number;
  /** Most tasks per thread call; 1 turns batching off. @defaultValue 64 */
  maxBatch?: number;
  /**
   * Work per batched call, in ms: a kind whose tasks average under half of it is batched, this
   * much at a time. Longer shares more protocol cost; shorter leaves less imbalance at the end of
   * a batch (at most this much per thread). @defaultValue 100
   */
  batchMs?: number;
  /** Work to hold queued per thread, in ms of the recent task time (see `prefetch`). @defaultValue 25 */
  prefetchMs?: number;
  /** OS priority of the task threads (19 = lowest). @defaultValue 19, or SWARMGRID_THREAD_NICE */
  niceness?: number;
  /**
   * How many tasks the caller holds and has not handed over yet. With it, a thread call takes no
   * more than a fair share of all the waiting work, so that when work runs out the last calls
   * shrink and the threads finish together. @defaultValue none: share only what was handed over
   */
  backlog?: () => number;
  /** Ceiling on the worker process's resident memory, in MB (0 = none). @defaultValue 0 */
  maxRssMb?: number;
  /** How often the ceiling is checked while tasks run. @defaultValue 100 */
  rssCheckMs?: number;
  /** Time limit of a task with neither a policy timeout nor a lease, in ms. @defaultValue 600000 */
  defaultTimeoutMs?: number;
  /**
   * Longest a packed call may run, in ms (at least 10 × `batchMs`): a pack that overruns it is
   * stopped and its tasks run again alone, each under its own limit, so that one task of unknown
   * duration never holds its neighbours (nor the thread) hostage. @defaultValue 2000
   */
  packLimitMs?: number;
}

export interface RunRequest extends ThreadTask {
  /**
   * Wall-time limit from the policy, in ms (0 = none set). Every task still has a limit: its
   * lease's length (`leaseMs`), or `defaultTimeoutMs` when it has neither.
   */
  timeoutMs: number;
  /** The task's lease length, in ms. */
  leaseMs?: number;
  /** When the task's lease runs out, on `performance.now()`'s clock: not started by then, it is handed back unrun. */
  leaseEndsAt?: number;
  memoryMb: number;
  signal?: AbortSignal;
  /** Called when the task enters a thread (until then it may be handed back unrun). */
  onStart?: () => void;
  /** Called when it leaves its thread unfinished to wait here again (its batch failed as a whole). */
  onWait?: () => void;
}

interface Pending {
  req: RunRequest;
  /** Settles once; later calls (a cancelled task's result arriving) are ignored. */
  resolve: (outcome: RunOutcome) => void;
  settled: boolean;
  queued: boolean;
  /** Set once a batch of it failed as a whole: it runs alone from then on. */
  alone?: boolean;
}

const THREAD_FILE = new URL('./task-thread.js', import.meta.url).href;

/** What the runner needs of a pool: Piscina's `run` and `destroy`, which TaskProcessPool has too. */
interface TaskPool {
  run(call: unknown, options: { signal?: AbortSignal; transferList?: ArrayBuffer[] }): Promise<unknown>;
  destroy(): Promise<void>;
}

export class Runner {
  readonly threads: number;
  /** Tasks handed to `run` and not finished (queued here or in a thread). */
  running = 0;
  /** Thread pools (built-in kinds) and process pools (custom kinds) by heap limit. */
  #pools = new Map<string, TaskPool>();
  #opts: Required<Omit<RunnerOptions, 'backlog'>>;
  /** Packed calls that overran their limit and were split (tests and logs read it). */
  packsSplit = 0;
  #backlog: (() => number) | undefined;
  #queue: Pending[] = [];
  #inFlight = 0;
  #pumpScheduled = false;
  /** Moving average of task time per kind, in ms (batching.ts). */
  #avgMs = new Map<string, number>();
  /** The same over all kinds: what `slots` and `prefetch` follow (unknown until a task ran). */
  #recentMs: number | undefined;
  #ceiling: MemoryCeiling;
  #closing?: Promise<void>;

  constructor(options: RunnerOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new TypeError('options.threads must be a positive integer');
    const maxBatch = options.maxBatch ?? 64;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError('options.maxBatch must be a positive integer');
    this.threads = options.threads;
    this.#backlog = options.backlog;
    this.#opts = {
      threads: options.threads,
      defaultMemoryMb: options.defaultMemoryMb ?? 1024,
      maxBatch,
      batchMs: options.batchMs ?? 100,
      prefetchMs: options.prefetchMs ?? 25,
      niceness: options.niceness ?? niceFromEnv(),
      maxRssMb: options.maxRssMb ?? 0,
      rssCheckMs: options.rssCheckMs ?? 100,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 600_000,
      packLimitMs: Math.max(options.packLimitMs ?? 2000, 10 * (options.batchMs ?? 100)),
    };
    this.#ceiling = new MemoryCeiling({ maxRssMb: this.#opts.maxRssMb, checkMs: this.#opts.rssCheckMs, rss: () => this.#rss() });
  }

  /**
   * How many tasks the agent may hand over at once: `threads`, or for short tasks a batch per
   * thread plus one waiting here, so that a thread that frees up finds a whole batch ready (with
   * exactly one per thread, one thread's call could only take what the other's left).
   */
  get slots(): number {
    const batch = this.#batch(this.#recentMs);
    return batch > 1 ? (this.threads + 1) * batch : this.threads;
  }

  #batch(avgMs: number | undefined): number {
    return batchSize(avgMs, this.#opts.batchMs, this.#opts.maxBatch);
  }

  /**
   * Tasks worth holding (queued + running) for `threads` threads: `perThread` each, or enough
   * to cover `prefetchMs` of work per thread when tasks are short (at most four batches), so
   * that a round trip to the coordinator never leaves a thread idle. (Tiny tasks hit that cap:
   * 128 held per thread was round-trip bound on echo, 256 is 10–25 % faster, BENCHMARKS.md.)
   */
  prefetch(perThread = 2): number {
    if (this.#recentMs === undefined) return this.threads * perThread;
    const cover = Math.ceil(this.#opts.prefetchMs / Math.max(this.#recentMs, 0.001));
    // Two batches per thread: one running, the next one already here when it ends.
    return this.threads * Math.max(perThread, 2 * this.#batch(this.#recentMs), Math.min(cover, 4 * this.#opts.maxBatch));
  }

  /**
   * The pool for a heap limit: threads for built-in kinds, processes for custom kinds (`isolated`),
   * whose allocations may be anything: in a process, a task that blows its heap costs that task
   * only (task-processes.ts says why a thread cannot promise that).
   */
  #pool(memoryMb: number, isolated = false): TaskPool {
    const mb = memoryMb > 0 ? memoryMb : this.#opts.defaultMemoryMb;
    const key = `${isolated ? 'process' : 'thread'}:${mb}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = isolated
        ? new TaskProcessPool({ memoryMb: mb, niceness: this.#opts.niceness })
        : new Piscina({
          filename: THREAD_FILE,
          minThreads: this.#pools.size === 0 ? this.threads : 0,
          maxThreads: this.threads,
          idleTimeout: 60_000,
          // The runner keeps at most `threads` calls in flight: the pool itself never queues.
          maxQueue: 'auto',
          workerData: { niceness: this.#opts.niceness },
          resourceLimits: { maxOldGenerationSizeMb: mb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, mb >> 3)) },
        });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** This process's resident bytes and its task processes'. */
  #rss(): number {
    let total = process.memoryUsage.rss();
    for (const pool of this.#pools.values()) if (pool instanceof TaskProcessPool) for (const pid of pool.pids) total += rssOf(pid);
    return total;
  }

  /** Starts the default pool's threads (so the first task does not pay for thread start-up). */
  warm(): void {
    this.#pool(0);
  }

  run(req: RunRequest): Promise<RunOutcome> {
    if (this.#closing) return Promise.resolve(aborted(0));
    this.running++;
    return new Promise<RunOutcome>((resolve) => {
      const onAbort = () => {
        // Settle at once: a queued task leaves the queue, a batched one has its result dropped
        // (a task running alone is also stopped in its thread, by #runOne).
        if (p.queued) this.#queue.splice(this.#queue.indexOf(p), 1);
        p.queued = false;
        p.resolve(aborted(0));
      };
      const p: Pending = {
        req, settled: false, queued: true,
        resolve: (outcome) => {
          if (p.settled) return;
          p.settled = true;
          this.running--;
          req.signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      if (req.signal?.aborted) return p.resolve(aborted(0));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(p);
      this.#schedulePump();
    });
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // A microtask: every task the agent starts in one go is queued before the first call leaves.
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #batchable(p: Pending): boolean {
    const r = p.req;
    // Only a kind measured small is packed, and a pack has a limit of its own (#runBatch):
    // a task whose duration is unknown never shares a call.
    return !p.alone && this.#batch(this.#avgMs.get(kindKey(r))) > 1;
  }

  /** Starts thread calls while fewer than `threads` are in flight. */
  #pump(): void {
    while (this.#inFlight < this.threads && this.#queue.length > 0) {
      const first = this.#queue.shift()!;
      first.queued = false;
      if (!this.#batchable(first)) {
        void this.#runOne(first);
        continue;
      }
      // Up to a batch's worth of work per call, and no more than a fair share of what waits: of
      // all the caller holds when it says (the last calls of a burst shrink and end together),
      // else of what is queued here, between the idle threads. (Credit in transit is not in the
      // backlog: over a round trip longer than a batch, sizes shrink a little. Not on loopback.)
      const waiting = this.#queue.length + 1;
      const share = this.#backlog
        ? Math.ceil((waiting + this.#backlog()) / this.threads)
        : Math.ceil(waiting / (this.threads - this.#inFlight));
      const size = Math.min(this.#batch(this.#avgMs.get(kindKey(first.req))), share);
      const batch = takeBatch(this.#queue, first, size, (p) => p.req.memoryMb === first.req.memoryMb && isolated(p.req) === isolated(first.req) && this.#batchable(p));
      for (const p of batch) p.queued = false;
      if (batch.length === 1) void this.#runOne(first);
      else void this.#runBatch(batch);
    }
  }

  async #runOne(p: Pending): Promise<void> {
    const { req } = p;
    const limit = this.#limit(req);
    if (limit.ms <= 0) {
      // No verdict on the task: the agent hands it back (the coordinator has re-issued it already).
      p.resolve({ ok: false, errorCode: 'timeout', message: 'task not started before its lease ran out', cpuMs: 0, unstarted: true });
      this.#pump();
      return;
    }
    const pool = this.#pool(req.memoryMb, isolated(req));
    this.#inFlight++;
    // A task process is started before the clock is: its start-up is not the task's time.
    let reserved: TaskProcess | undefined;
    try {
      if (pool instanceof TaskProcessPool) reserved = await pool.reserve();
    } catch (err) {
      this.#inFlight--;
      p.resolve(failure(err, 0));
      this.#pump();
      return;
    }
    const started = performance.now();
    const controller = new AbortController();
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (p.settled) controller.abort(new Error('cancelled'));
    let timedOut = false;
    let overMemory = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(new Error('timeout')); }, limit.ms);
    const stopForMemory = () => { overMemory = true; controller.abort(new Error('memory ceiling')); };
    const pid = reserved?.child.pid;
    const unwatch = this.#ceiling.watch(stopForMemory, pid === undefined ? undefined : () => rssOf(pid));
    req.onStart?.();
    let outcome: RunOutcome;
    try {
      const task: ThreadTask = {
        kind: req.kind, input: ownBytes(req.input), ...(req.codePath && { codePath: req.codePath }),
        ...(req.wasm && { wasm: true, codeHash: req.codeHash, memoryMb: req.memoryMb }),
      };
      const result = (await pool.run(task, { signal: controller.signal, ...(reserved && { reserved }) })) as ThreadResult;
      this.#observe(req, result.cpuMs);
      outcome = toOutcome(result);
    } catch (err) {
      const ms = performance.now() - started;
      const cpuMs = Math.round(ms);
      this.#observe(req, ms);
      if (timedOut) outcome = { ok: false, errorCode: 'timeout', message: `task exceeded its time limit of ${Math.round(limit.ms)} ms (${limit.what})`, cpuMs };
      else if (overMemory) outcome = { ok: false, errorCode: 'out_of_memory', message: `the worker exceeded its memory ceiling of ${this.#opts.maxRssMb} MB`, cpuMs };
      else if (controller.signal.aborted) outcome = aborted(cpuMs);
      else outcome = failure(err, cpuMs);
    } finally {
      this.#inFlight--;
      unwatch();
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
    p.resolve(outcome);
    this.#pump();
  }

  /**
   * Several short tasks in one thread call. A task cancelled meanwhile just has its result
   * dropped (the whole call is stopped once all are). If the call fails as a whole (the thread
   * ran out of heap, the memory ceiling stopped it, it overran its pack limit), each task runs
   * again alone, so only the culprit reports the error and is charged for it.
   */
  async #runBatch(batch: Pending[]): Promise<void> {
    this.#inFlight++;
    const pool = this.#pool(batch[0]!.req.memoryMb, isolated(batch[0]!.req));
    // As in #runOne: a task process's start-up is not the pack's time.
    let reserved: TaskProcess | undefined;
    try {
      if (pool instanceof TaskProcessPool) reserved = await pool.reserve();
    } catch {
      reserved = undefined;
    }
    // The memory ceiling, the pack's own time limit, or every task of it cancelled stop a pack;
    // the tasks still wanted then run again alone, where each is judged under its own limits.
    const controller = new AbortController();
    const stopForMemory = () => controller.abort(new Error('memory ceiling'));
    const pid = reserved?.child.pid;
    const unwatch = this.#ceiling.watch(stopForMemory, pid === undefined ? undefined : () => rssOf(pid));
    const packMs = Math.min(this.#opts.packLimitMs, ...batch.map((p) => this.#limit(p.req).ms));
    let overran = false;
    const timer = setTimeout(() => { overran = true; controller.abort(new Error('pack time limit')); }, Math.max(0, packMs));
    // Cancelled to the last task: free the thread at once (the thread is terminated).
    const onCancel = () => { if (batch.every((p) => p.settled)) controller.abort(new Error('cancelled')); };
    for (const p of batch) p.req.signal?.addEventListener('abort', onCancel, { once: true });
    let results: ThreadResult[] | undefined;
    for (const p of batch) p.req.onStart?.();
    try {
      if (packMs <= 0) throw new Error('a task of the pack is out of time');
      const call = packBatch(batch.map((p) => p.req));
      results = (await pool.run(call, { transferList: [call.inputs.buffer as ArrayBuffer], signal: controller.signal, ...(reserved && { reserved }) })) as ThreadResult[];
    } catch {
      results = undefined;
    } finally {
      this.#inFlight--;
      unwatch();
      clearTimeout(timer);
      for (const p of batch) p.req.signal?.removeEventListener('abort', onCancel);
    }
    if (overran) this.packsSplit++;
    // One sample per kind per batch: its mean, so that one task whose thread was descheduled for
    // a moment does not set the batch sizes; but a task too long to batch at all (over half of
    // batchMs) stops batching of its kind at once, as its neighbours waited behind it.
    if (results) {
      const ms = results.map((r) => ('errorCode' in r && r.cpuMs === 0 ? undefined : r.cpuMs));
      for (const { item, mean, max } of timesByKey(batch, ms, (p) => kindKey(p.req))) {
        if (max * 2 >= this.#opts.batchMs) {
          this.#avgMs.set(kindKey(item.req), max);
          this.#recentMs = Math.max(this.#recentMs ?? 0, max);
        } else this.#observe(item.req, mean);
      }
    }
    const again: Pending[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      if (p.settled) continue; // cancelled while it ran
      if (!results) {
        p.alone = true;
        p.queued = true;
        p.req.onWait?.();
        again.push(p);
        continue;
      }
      p.resolve(toOutcome(results[i]!));
    }
    // First in the queue again, in their order.
    this.#queue.unshift(...again);
    if (this.#closing) for (const p of this.#queue.splice(0)) p.resolve(aborted(0));
    this.#pump();
  }

  /**
   * A task's time limit once it starts, in ms, and what sets it: the policy's timeout, else the
   * length of its lease (a task that cannot finish within one lease is of no use: the
   * coordinator gives it to someone else), else the runner's default. 0 when its lease ran out
   * before it started: it is handed back unrun, never charged for the wait.
   */
  #limit(req: RunRequest): { ms: number; what: string } {
    if (req.leaseEndsAt !== undefined && req.leaseEndsAt <= performance.now()) return { ms: 0, what: 'lease' };
    if (req.timeoutMs > 0) return { ms: req.timeoutMs, what: 'policy timeout' };
    if (req.leaseMs !== undefined && req.leaseMs > 0) return { ms: req.leaseMs, what: 'the lease length, as the policy sets no timeout' };
    return { ms: this.#opts.defaultTimeoutMs, what: 'default limit' };
  }

  #observe(req: RunRequest, ms: number): void {
    this.#avgMs.set(kindKey(req), smooth(this.#avgMs.get(kindKey(req)), ms));
    this.#recentMs = smooth(this.#recentMs, ms);
  }

  close(): Promise<void> {
    this.#ceiling.close();
    this.#closing ??= (async () => {
      for (const p of this.#queue.splice(0)) p.resolve(aborted(0));
      await Promise.all([...this.#pools.values()].map((pool) => pool.destroy()));
    })();
    return this.#closing;
  }
}

/**
 * Whether a task runs in a task process: JS custom kinds do; built-in kinds and WASM kinds run in
 * threads (a WASM module's memory is capped by construction and it reaches nothing outside its
 * sandbox, so the thread's termination on timeout is all the isolation it needs).
 */
function isolated(req: RunRequest): boolean {
  return !!req.codePath && !req.wasm;
}

function kindKey(req: RunRequest): string {
  return req.codePath ? `${req.kind}\0${req.codePath}` : req.kind;
}

/** SWARMGRID_THREAD_NICE=0 runs task threads at normal priority (benchmarks on one machine). */
function niceFromEnv(): number {
  const raw = process.env.SWARMGRID_THREAD_NICE;
  const v = raw ? Number(raw) : NaN;
  return Number.isInteger(v) && v >= 0 && v <= 19 ? v : 19;
}
