/**
 * One Web Worker per donated core, called through Comlink. A task that must stop (cancelled by the
 * coordinator, past its time limit) cannot be interrupted inside a worker, so its worker is
 * terminated and replaced, as Piscina does with a thread.
 */
import * as Comlink from 'comlink';
import type { TaskWorkerApi } from './task-worker.js';

export type RunOutcome =
  | { ok: true; output: Uint8Array; cpuMs: number }
  | { ok: false; errorCode: 'exception' | 'unknown_kind' | 'invalid_input' | 'timeout' | 'aborted'; message: string; cpuMs: number };

export interface RunRequest {
  kind: string;
  input: Uint8Array;
  /** 0 = no limit. */
  timeoutMs: number;
  signal: AbortSignal;
  /** A WASM kind's task: its verified bundle (the worker compiles it once per hash). */
  wasm?: { codeHash: Uint8Array; bundle: Uint8Array; memoryMb: number };
}

interface Slot {
  worker: Worker;
  api: Comlink.Remote<TaskWorkerApi>;
  busy: boolean;
  /** Rejects the running call when the worker itself dies (script failed to load, crashed). */
  fail?: (err: Error) => void;
}

export interface PoolOptions {
  size: number;
  /** URL of the bundled task-worker script, same origin (the page's CSP allows nothing else). */
  scriptUrl: string;
}

export class WorkerPool {
  #slots: Slot[] = [];
  #size: number;
  #scriptUrl: string;

  constructor(options: PoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new TypeError('options.size must be a positive integer');
    this.#size = options.size;
    this.#scriptUrl = options.scriptUrl;
    this.resize(options.size);
  }

  get size(): number {
    return this.#size;
  }

  get running(): number {
    return this.#slots.filter((s) => s.busy).length;
  }

  /** Busy flag per worker, for the page's per-core lights. */
  get busyFlags(): boolean[] {
    return this.#slots.map((s) => s.busy);
  }

  /** Grows at once; shrinks by retiring idle workers now and busy ones when their task ends. */
  resize(size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('size must be a positive integer');
    this.#size = size;
    while (this.#slots.length < size) this.#slots.push(this.#spawn());
    for (const slot of [...this.#slots]) {
      if (this.#slots.length <= size) break;
      if (!slot.busy) this.#retire(slot);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(this.#scriptUrl, { name: 'swarmgrid-task' });
    const slot: Slot = { worker, api: Comlink.wrap<TaskWorkerApi>(worker), busy: false };
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      slot.fail?.(new Error(ev.message || 'the task worker failed'));
    });
    return slot;
  }

  #retire(slot: Slot): void {
    slot.worker.terminate();
    this.#slots = this.#slots.filter((s) => s !== slot);
  }

  /** Runs one task on an idle worker; the caller keeps `running < size`. */
  async run(req: RunRequest): Promise<RunOutcome> {
    const slot = this.#slots.find((s) => !s.busy);
    if (!slot) throw new Error('no idle worker (the caller must respect the pool size)');
    slot.busy = true;
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    // Whatever stops the task first wins: its result, its time limit, a Cancel, a dead worker.
    const stopped = new Promise<RunOutcome>((resolve) => {
      const elapsed = () => Math.round(performance.now() - started);
      if (req.timeoutMs > 0) {
        timer = setTimeout(() => resolve({ ok: false, errorCode: 'timeout', message: `task exceeded its time limit of ${req.timeoutMs} ms`, cpuMs: elapsed() }), req.timeoutMs);
      }
      onAbort = () => resolve({ ok: false, errorCode: 'aborted', message: 'task cancelled', cpuMs: elapsed() });
      if (req.signal.aborted) onAbort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
      slot.fail = (err) => resolve({ ok: false, errorCode: 'exception', message: err.message, cpuMs: elapsed() });
    });
    let finished = false;
    const call = req.wasm ? slot.api.runWasm(req.kind, req.input, req.wasm.codeHash, req.wasm.bundle, req.wasm.memoryMb) : slot.api.run(req.kind, req.input);
    const ran = call.then((r): RunOutcome => {
      finished = true;
      return 'errorCode' in r
        ? { ok: false, errorCode: r.errorCode, message: r.message, cpuMs: Math.round(r.cpuMs) }
        : { ok: true, output: r.output, cpuMs: Math.round(r.cpuMs) };
    }, (err: unknown): RunOutcome => {
      finished = true;
      return { ok: false, errorCode: 'exception', message: err instanceof Error ? err.message : String(err), cpuMs: Math.round(performance.now() - started) };
    });
    const outcome = await Promise.race([ran, stopped]);
    clearTimeout(timer);
    if (onAbort) req.signal.removeEventListener('abort', onAbort);
    slot.fail = undefined;
    slot.busy = false;
    if (!finished) {
      // Still computing something nobody wants: the only way to stop it is to end the worker.
      this.#retire(slot);
      if (this.#slots.length < this.#size) this.#slots.push(this.#spawn());
    } else if (this.#slots.length > this.#size) {
      this.#retire(slot);
    }
    return outcome;
  }

  close(): void {
    for (const slot of this.#slots) slot.worker.terminate();
    this.#slots = [];
  }
}
