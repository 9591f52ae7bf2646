/**
 * Runs tasks in Piscina worker-thread pools, one pool per heap limit (a task's memory limit is a
 * property of the thread it runs in). At most `threads` tasks run at once across all pools;
 * a time limit aborts the task (Piscina terminates its thread) and the pool carries on.
 */
import { Piscina } from 'piscina';
import type { ThreadResult, ThreadTask } from './task-thread.js';
import type { TaskErrorCode } from './errors.js';

export interface RunnerOptions {
  threads: number;
  /** Heap limit for tasks whose policy sets none, in MB. @defaultValue 1024 */
  defaultMemoryMb?: number;
}

export type RunOutcome =
  | { ok: true; output: Uint8Array; cpuMs: number }
  | { ok: false; errorCode: TaskErrorCode; message: string; cpuMs: number };

export interface RunRequest extends ThreadTask {
  timeoutMs: number;
  memoryMb: number;
  signal?: AbortSignal;
}

const THREAD_FILE = new URL('./task-thread.js', import.meta.url).href;

export class Runner {
  readonly threads: number;
  #pools = new Map<number, Piscina>();
  #defaultMemoryMb: number;
  #closing?: Promise<void>;
  running = 0;

  constructor(options: RunnerOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new TypeError('options.threads must be a positive integer');
    this.threads = options.threads;
    this.#defaultMemoryMb = options.defaultMemoryMb ?? 1024;
  }

  #pool(memoryMb: number): Piscina {
    const mb = memoryMb > 0 ? memoryMb : this.#defaultMemoryMb;
    let pool = this.#pools.get(mb);
    if (!pool) {
      pool = new Piscina({
        filename: THREAD_FILE,
        minThreads: this.#pools.size === 0 ? this.threads : 0,
        maxThreads: this.threads,
        idleTimeout: 60_000,
        // Concurrency is bounded by the agent; the pool never needs to queue much.
        maxQueue: 'auto',
        resourceLimits: { maxOldGenerationSizeMb: mb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, mb >> 3)) },
      });
      this.#pools.set(mb, pool);
    }
    return pool;
  }

  /** Starts the default pool's threads (so the first task does not pay for thread start-up). */
  warm(): void {
    this.#pool(0);
  }

  async run(req: RunRequest): Promise<RunOutcome> {
    const started = performance.now();
    const controller = new AbortController();
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = req.timeoutMs > 0 ? setTimeout(() => { timedOut = true; controller.abort(new Error('timeout')); }, req.timeoutMs) : undefined;
    this.running++;
    try {
      const task: ThreadTask = { kind: req.kind, input: req.input, ...(req.codePath && { codePath: req.codePath }) };
      const result = (await this.#pool(req.memoryMb).run(task, { signal: controller.signal })) as ThreadResult;
      if ('errorCode' in result) return { ok: false, errorCode: result.errorCode, message: result.message, cpuMs: Math.round(result.cpuMs) };
      return { ok: true, output: result.output, cpuMs: Math.round(result.cpuMs) };
    } catch (err) {
      const e = err as Error & { code?: string };
      const cpuMs = Math.round(performance.now() - started);
      if (timedOut) return { ok: false, errorCode: 'timeout', message: `task exceeded its time limit of ${req.timeoutMs} ms`, cpuMs };
      if (controller.signal.aborted) return { ok: false, errorCode: 'aborted', message: 'task cancelled', cpuMs };
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') return { ok: false, errorCode: 'out_of_memory', message: e.message, cpuMs };
      return { ok: false, errorCode: 'exception', message: e.message ?? String(err), cpuMs };
    } finally {
      this.running--;
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#pools.values()].map((p) => p.destroy())).then(() => undefined);
    return this.#closing;
  }
}
