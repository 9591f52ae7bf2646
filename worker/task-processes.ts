/**
 * A pool of task *processes* for custom job kinds: the same calls as the thread pool (Piscina),
 * each run in a child process of its own heap limit (`--max-old-space-size`).
 *
 * Why processes: a worker thread's heap limit (Piscina `resourceLimits`) holds only for small
 * allocations. When one allocation crosses it by more than the 16 MB of slack Node gives a
 * dying thread (an array growing past its limit: V8 copies it into one 1.5× larger block), V8
 * gives up on the whole process, "Reached heap limit", exit 134: every other task of the worker
 * dies with it, and no `out_of_memory` is ever reported. In a process of its own, the same task
 * takes only that process down; the runner sees the exit and reports `out_of_memory`. BOINC runs
 * every task as a process for the same reason. Built-in kinds, whose allocations are ours and
 * bounded, stay on threads (no process per call, no copies through a pipe).
 *
 * A time limit or a cancel kills the process (SIGKILL): freed at once whatever the task does.
 * A process is reused for the next call while it lives; the pool starts one on demand.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROCESS_FILE = fileURLToPath(new URL('./task-process.js', import.meta.url));
/** How much of a dead process's stderr is kept to tell out-of-memory from other crashes. */
const STDERR_TAIL = 4096;

export interface TaskProcessPoolOptions {
  /** Heap limit of each process, in MB. */
  memoryMb: number;
  /** OS priority of the processes (19 = lowest). */
  niceness: number;
}

export interface TaskProcess {
  child: ChildProcess;
  stderr: string;
  busy: boolean;
}

export class TaskProcessPool {
  #opts: TaskProcessPoolOptions;
  #idle: TaskProcess[] = [];
  #all = new Set<TaskProcess>();
  #closed = false;

  constructor(options: TaskProcessPoolOptions) {
    this.#opts = options;
  }

  /** Process ids of the live task processes (the memory ceiling counts their RSS). */
  get pids(): number[] {
    return [...this.#all].map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  #spawn(): TaskProcess {
    const child = fork(PROCESS_FILE, [], {
      execArgv: [`--max-old-space-size=${this.#opts.memoryMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, SWARMGRID_TASK_NICE: String(this.#opts.niceness) },
    });
    const proc: TaskProcess = { child, stderr: '', busy: false };
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { proc.stderr = (proc.stderr + chunk).slice(-STDERR_TAIL); });
    child.on('error', () => {});
    child.once('exit', () => {
      this.#all.delete(proc);
      const i = this.#idle.indexOf(proc);
      if (i >= 0) this.#idle.splice(i, 1);
    });
    this.#all.add(proc);
    return proc;
  }

  /**
   * Runs one call (a task or a pack, as for the thread) in a process. Rejects with an error whose
   * `code` is ERR_WORKER_OUT_OF_MEMORY when the process died of its heap limit, with an
   * AbortError when `signal` fired (the process was killed), else with the crash described.
   */
  /**
   * A process started and ready for a call, set aside for the caller, who passes it to `run`:
   * so that a time limit counts from the call, not from the start-up of a process (a second or
   * more on a loaded machine).
   */
  async reserve(): Promise<TaskProcess> {
    if (this.#closed) throw new Error('task process pool closed');
    const idle = this.#idle.pop();
    if (idle) {
      idle.busy = true;
      return idle;
    }
    const proc = this.#spawn();
    proc.busy = true;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean }) => {
        if (!msg.ready) return;
        proc.child.off('exit', onExit);
        proc.child.off('message', onMessage);
        resolve();
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
        proc.child.off('message', onMessage);
        reject(crashError(code, sig, proc.stderr, this.#opts.memoryMb));
      };
      proc.child.on('message', onMessage);
      proc.child.once('exit', onExit);
    });
    return proc;
  }

  /** Hands back a reserved process unused. */
  release(proc: TaskProcess): void {
    proc.busy = false;
    if (this.#closed || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    this.#idle.push(proc);
  }

  run(call: unknown, options: { signal?: AbortSignal; transferList?: unknown; reserved?: TaskProcess } = {}): Promise<unknown> {
    const { signal, reserved } = options;
    if (this.#closed || (signal?.aborted ?? false)) {
      if (reserved) this.release(reserved);
      return Promise.reject(this.#closed ? new Error('task process pool closed') : abortError(signal!));
    }
    const proc = reserved ?? this.#idle.pop() ?? this.#spawn();
    proc.busy = true;
    const { child } = proc;
    return new Promise((resolve, reject) => {
      const done = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        proc.busy = false;
      };
      const onMessage = (msg: { result: unknown }) => {
        done();
        if (!this.#closed) this.#idle.push(proc);
        resolve(msg.result);
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
        done();
        reject(crashError(code, sig, proc.stderr, this.#opts.memoryMb));
      };
      const onAbort = () => {
        done();
        child.kill('SIGKILL');
        reject(abortError(signal!));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      child.send({ call }, (err) => {
        if (err && proc.busy) {
          done();
          child.kill('SIGKILL');
          reject(err);
        }
      });
    });
  }

  /** Kills every process. Idempotent. */
  async destroy(): Promise<void> {
    this.#closed = true;
    this.#idle = [];
    const exits = [...this.#all].map((p) => new Promise<void>((resolve) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
      p.child.once('exit', () => resolve());
      p.child.kill('SIGKILL');
    }));
    await Promise.all(exits);
  }
}

function abortError(signal: AbortSignal): Error {
  const err = new Error(`task process stopped: ${String((signal.reason as Error | undefined)?.message ?? 'aborted')}`);
  err.name = 'AbortError';
  return err;
}

/** What a process's death means: V8's out-of-memory message on stderr, or a crash. */
function crashError(code: number | null, sig: NodeJS.Signals | null, stderr: string, memoryMb: number): Error {
  const oom = /heap out of memory|Reached heap limit|Allocation failed|invalid (?:table|array) size/i.test(stderr);
  if (oom) {
    const err = new Error(`task ran out of memory: JavaScript heap out of memory at its limit of ${memoryMb} MB`) as Error & { code: string };
    err.code = 'ERR_WORKER_OUT_OF_MEMORY';
    return err;
  }
  const last = stderr.trim().split('\n').filter(Boolean).slice(-1)[0];
  return new Error(`task process exited (${sig ?? `code ${code}`})${last ? `: ${last}` : ''}`);
}

/** Resident memory of a process in bytes, from /proc (Linux); 0 where that cannot be read. */
export function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
