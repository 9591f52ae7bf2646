/**
 * One Web Worker per donated core, called through Comlink. Each worker runs one task and may hold
 * one more waiting in its own queue (task-queue.ts), so that the next task starts as soon as one
 * ends, without a round trip to the agent's worker between them. A task that must stop
 * (cancelled by the coordinator, past its time limit) cannot be interrupted inside a worker: a
 * waiting one is withdrawn from the worker's queue, a running one ends its worker, which is
 * replaced (as Piscina does with a thread) and given the tasks that were waiting in it.
 */
import * as Comlink from 'comlink';
import type { TaskCall, TaskWorkerApi, WorkerResult } from './task-worker.js';

/** How a task ended. */
type Outcome =
  | { ok: true; output: Uint8Array; cpuMs: number }
  | { ok: false; errorCode: 'exception' | 'unknown_kind' | 'invalid_input' | 'timeout' | 'aborted'; message: string; cpuMs: number };

export type RunOutcome = Outcome & {
  /** Wall time from the task's own start (not from when it was queued) to its end, ms. */
  wallMs: number;
};

export interface RunRequest {
  kind: string;
  input: Uint8Array;
  /** 0 = no limit. Counted from the task's own start, not from when it was queued. */
  timeoutMs: number;
  signal: AbortSignal;
  /** A WASM kind's task: its verified bundle (the worker compiles it once per hash). */
  wasm?: { codeHash: Uint8Array; bundle: Uint8Array; memoryMb: number };
}

/** Tasks a worker holds: the running one and one waiting behind it. */
export const TASKS_PER_WORKER = 2;

/** A task in the pool. */
interface Entry {
  /** Its id in the worker's queue. */
  wid: number;
  req: RunRequest;
  resolve: (outcome: RunOutcome) => void;
  settled: boolean;
  /** When it started running, as far as the pool knows (the task before it ended): performance.now(). */
  started?: number;
  timer?: ReturnType<typeof setTimeout>;
  onAbort: () => void;
  /** Which posting to a worker is current: replies to an older one (a worker since ended) are ignored. */
  post: number;
}

interface Slot {
  worker: Worker;
  api: Comlink.Remote<TaskWorkerApi>;
  /** In the worker's order: the first runs, the others wait in its queue. */
  entries: Entry[];
  /** Over the pool size after a shrink: takes no new task, ends when its last one does. */
  retiring: boolean;
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
  #nextWid = 1;
  #posts = 0;

  constructor(options: PoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new TypeError('options.size must be a positive integer');
    this.#size = options.size;
    this.#scriptUrl = options.scriptUrl;
    this.resize(options.size);
  }

  get size(): number {
    return this.#size;
  }

  /** Tasks running now (one per busy worker). */
  get running(): number {
    return this.#slots.filter((s) => s.entries.length > 0).length;
  }

  /** Tasks in the pool, running or waiting in a worker: at most `size × TASKS_PER_WORKER`. */
  get inFlight(): number {
    return this.#slots.reduce((n, s) => n + s.entries.length, 0);
  }

  /** Busy flag per worker, for the page's per-core lights. */
  get busyFlags(): boolean[] {
    return this.#slots.map((s) => s.entries.length > 0);
  }

  /** Grows at once; shrinks by retiring idle workers now and busy ones when their tasks end. */
  resize(size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('size must be a positive integer');
    this.#size = size;
    for (const slot of this.#slots) slot.retiring = false;
    while (this.#slots.length < size) this.#slots.push(this.#spawn());
    let excess = this.#slots.length - size;
    for (const slot of [...this.#slots].sort((a, b) => a.entries.length - b.entries.length)) {
      if (excess-- <= 0) break;
      slot.retiring = true;
      if (slot.entries.length === 0) this.#retire(slot);
    }
  }

  #spawn(): Slot {
    const slot = { entries: [], retiring: false } as unknown as Slot;
    this.#start(slot);
    return slot;
  }

  /** A fresh worker for `slot`. */
  #start(slot: Slot): void {
    const worker = new Worker(this.#scriptUrl, { name: 'swarmgrid-task' });
    slot.worker = worker;
    slot.api = Comlink.wrap<TaskWorkerApi>(worker);
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      if (slot.worker !== worker) return;
      const head = slot.entries[0];
      if (!head) return;
      // The worker itself failed (script did not load, crashed): its running task with it.
      this.#settle(head, { ok: false, errorCode: 'exception', message: ev.message || 'the task worker failed', cpuMs: this.#elapsed(head) });
      this.#replace(slot);
    });
  }

  #retire(slot: Slot): void {
    slot.worker.terminate();
    this.#slots = this.#slots.filter((s) => s !== slot);
  }

  /**
   * Runs one task: on an idle worker if there is one, else queued behind a running task. The
   * caller keeps `inFlight < size × TASKS_PER_WORKER`. Resolves when the task has ended and left
   * its worker (a cancelled task: once withdrawn, or once its worker has been ended).
   */
  run(req: RunRequest): Promise<RunOutcome> {
    let slot: Slot | undefined;
    for (const s of this.#slots) if (!s.retiring && s.entries.length < TASKS_PER_WORKER && (!slot || s.entries.length < slot.entries.length)) slot = s;
    if (!slot) throw new Error('no room in the pool (the caller must respect size × TASKS_PER_WORKER)');
    const target = slot;
    return new Promise<RunOutcome>((resolve) => {
      const entry: Entry = { wid: this.#nextWid++, req, resolve, settled: false, post: 0, onAbort: () => this.#abort(target, entry) };
      target.entries.push(entry);
      if (req.signal.aborted) {
        target.entries.pop();
        this.#settle(entry, aborted(0));
        return;
      }
      req.signal.addEventListener('abort', entry.onAbort, { once: true });
      this.#post(target, entry);
      if (target.entries[0] === entry) this.#begin(target, entry);
    });
  }

  /** Sends `entry` to its slot's worker queue. */
  #post(slot: Slot, entry: Entry): void {
    const post = (entry.post = ++this.#posts);
    const { kind, input, wasm } = entry.req;
    // A view into an Assign frame would take the whole frame's buffer along: post its own bytes.
    const call: TaskCall = { kind, input: ownBytes(input), ...(wasm && { wasm }) };
    slot.api.enqueue(entry.wid, call).then(
      (r) => entry.post === post && this.#ended(slot, entry, r === null ? null : fromWorker(r)),
      (err: unknown) => entry.post === post && this.#ended(slot, entry, { ok: false, errorCode: 'exception', message: err instanceof Error ? err.message : String(err), cpuMs: this.#elapsed(entry) }),
    );
  }

  /** `entry` is now its worker's running task: its time limit counts from here. */
  #begin(slot: Slot, entry: Entry): void {
    entry.started = performance.now();
    if (entry.req.timeoutMs > 0) {
      entry.timer = setTimeout(() => {
        if (entry.settled || slot.entries[0] !== entry) return;
        this.#settle(entry, { ok: false, errorCode: 'timeout', message: `task exceeded its time limit of ${entry.req.timeoutMs} ms`, cpuMs: this.#elapsed(entry) });
        // Still computing something nobody wants: the only way to stop it is to end the worker.
        this.#replace(slot);
      }, entry.req.timeoutMs);
    }
  }

  /** The worker answered for `entry`: its outcome, or `null` when it was withdrawn unrun. */
  #ended(slot: Slot, entry: Entry, outcome: Outcome | null): void {
    const i = slot.entries.indexOf(entry);
    if (i < 0) return;
    slot.entries.splice(i, 1);
    // A cancelled task that finished before its withdrawal was read is cancelled all the same.
    this.#settle(entry, outcome === null || entry.req.signal.aborted ? aborted(this.#elapsed(entry)) : outcome);
    const head = slot.entries[0];
    if (head && head.started === undefined) this.#begin(slot, head);
    if (slot.retiring && slot.entries.length === 0) this.#retire(slot);
  }

  /** `entry`'s task was cancelled. */
  #abort(slot: Slot, entry: Entry): void {
    if (entry.settled || !slot.entries.includes(entry)) return;
    if (slot.entries[0] === entry && entry.started !== undefined) {
      this.#settle(entry, aborted(this.#elapsed(entry)));
      this.#replace(slot);
      return;
    }
    // Waiting in the worker's queue (as far as the pool knows): take it out there, leaving the
    // running task alone. If it started meanwhile, its worker must end after all.
    const post = entry.post;
    slot.api.withdraw(entry.wid).then((withdrawn) => {
      if (withdrawn || entry.post !== post || entry.settled || !slot.entries.includes(entry)) return;
      this.#settle(entry, aborted(this.#elapsed(entry)));
      this.#replace(slot);
    }, () => { /* the worker ended meanwhile: #replace handled its tasks */ });
  }

  /**
   * Ends `slot`'s worker (its running task has been settled) and starts a fresh one with the
   * tasks that were waiting in it, in order; the first of them starts now.
   */
  #replace(slot: Slot): void {
    slot.worker.terminate();
    const keep: Entry[] = [];
    for (const entry of slot.entries) {
      if (entry.settled) continue;
      if (entry.req.signal.aborted) this.#settle(entry, aborted(0));
      else keep.push(entry);
    }
    slot.entries = keep;
    if (slot.retiring && keep.length === 0) {
      this.#slots = this.#slots.filter((s) => s !== slot);
      return;
    }
    this.#start(slot);
    for (const entry of keep) {
      clearTimeout(entry.timer);
      entry.started = undefined;
      this.#post(slot, entry);
    }
    if (keep[0]) this.#begin(slot, keep[0]);
  }

  #settle(entry: Entry, outcome: Outcome): void {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    entry.req.signal.removeEventListener('abort', entry.onAbort);
    entry.resolve({ ...outcome, wallMs: entry.started === undefined ? 0 : performance.now() - entry.started } as RunOutcome);
  }

  #elapsed(entry: Entry): number {
    return entry.started === undefined ? 0 : Math.round(performance.now() - entry.started);
  }

  close(): void {
    for (const slot of this.#slots) {
      slot.worker.terminate();
      for (const entry of slot.entries) this.#settle(entry, aborted(this.#elapsed(entry)));
    }
    this.#slots = [];
  }
}

function aborted(cpuMs: number): Outcome {
  return { ok: false, errorCode: 'aborted', message: 'task cancelled', cpuMs };
}

function fromWorker(r: WorkerResult): Outcome {
  return 'errorCode' in r
    ? { ok: false, errorCode: r.errorCode, message: r.message, cpuMs: Math.round(r.cpuMs) }
    : { ok: true, output: r.output, cpuMs: Math.round(r.cpuMs) };
}

/** Bytes alone in their buffer (posting a view clones the whole buffer it looks into). */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
