/**
 * The worker's side of one coordinator. It outlives connections: tasks keep running while the
 * coordinator is away, and results not yet acknowledged are sent again after reconnecting, so
 * nothing a worker computed is lost to a dropped connection or a restarted coordinator.
 */
import type { Channel } from '../proto/channel.js';
import { type Frame, PROTOCOL_VERSION, Runtime, type swarmgrid } from '../proto/codec.js';
import { ProtoErrors } from '../proto/errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, fitsInline, resultFrames } from '../proto/payloads.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../proto/codec.js';
import { InputFetches } from '../proto/input-fetches.js';
import { createHash } from 'node:crypto';
import type { CodeSource } from './code-cache.js';
import { WorkerErrors } from './errors.js';

export interface HeldTask {
  task: swarmgrid.ITask;
  /** queued here; handed to the runner (waiting there for a thread); running in a thread. */
  state: 'queued' | 'handed' | 'running';
  controller: AbortController;
  /** When the Assign arrived (`performance.now()`): its lease runs from here, on our clock. */
  receivedAt: number;
}

export interface LinkHost {
  readonly kinds: string[];
  readonly threads: number;
  readonly version: string;
  /** Taking no new tasks (the owner is busy, or the worker is shutting down). */
  readonly paused: boolean;
  trusts(coordinatorKey: string): boolean;
  /** Whether WASM kinds (sandboxed) run here: on unless the volunteer said --no-wasm. */
  readonly runsWasm?: boolean;
  /** The join token for this coordinator, or '' (private coordinators ask for one). */
  joinToken(coordinatorKey: string): string;
  /** Tasks this link should hold (queued + running): its share of the prefetch. */
  prefetchFor(link: CoordinatorLink): number;
  /** New tasks arrived: start what fits. */
  pump(): void;
  /** The connection dropped (not closed by us): time to start redialling. */
  linkLost(link: CoordinatorLink): void;
  /** The coordinator welcomed us: redialling after a drop may start fast again. */
  linkWelcomed?(link: CoordinatorLink): void;
  /** Random bytes drawn once per process, sent in Hello (proto: Hello.instance). */
  readonly instance?: Uint8Array;
  /** The coordinator refused us: another live process has our identity (GRID_ERR_DUPLICATE_IDENTITY). */
  identityInUse?(link: CoordinatorLink, message: string): void;
  log(event: string, fields: Record<string, unknown>): void;
}

/** How long a coordinator gets to answer a CodeRequest. */
const CODE_REQUEST_TIMEOUT_MS = 30_000;


export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

interface CodeWaiter {
  resolve: (bundle: swarmgrid.ICodeBundle) => void;
  reject: (err: Error) => void;
  promise: Promise<swarmgrid.ICodeBundle>;
}

export class CoordinatorLink implements CodeSource {
  readonly key: string;
  readonly held = new Map<number, HeldTask>();
  readonly unacked = new Map<number, swarmgrid.ITaskResult>();
  /** Tasks this link has been served. */
  served = 0;
  tasksDone = 0;
  #host: LinkHost;
  #channel: Channel | null = null;
  #welcomed = false;
  #outbox: swarmgrid.ITaskResult[] = [];
  #flushScheduled = false;
  #credited = 0;
  #codeWaiters = new Map<string, CodeWaiter>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #maxCredit = Number.MAX_SAFE_INTEGER;
  #pingSentAt = 0;
  #lastHeard = 0;
  /** From Welcome: what the coordinator accepts in one frame, and in one task's output. */
  #maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  #maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
  #inputs = new InputFetches({
    request: (blobRequest) => this.#channel!.send({ blobRequest }),
    digest: sha256,
    unavailable: (taskId) => WorkerErrors.BLOB_UNAVAILABLE(taskId),
    mismatch: (taskId) => this.#channel?.close(ProtoErrors.PROTOCOL(`input of task ${taskId} does not match its SHA-256`)),
  });

  constructor(key: string, host: LinkHost) {
    this.key = key;
    this.#host = host;
  }

  get connected(): boolean {
    return this.#welcomed && this.#channel !== null && !this.#channel.closed;
  }

  get channel(): Channel | null {
    return this.#channel;
  }

  attach(channel: Channel): void {
    // Swap first: the old channel's close listener must see it was replaced, not lost.
    const old = this.#channel;
    this.#channel = channel;
    this.#welcomed = false;
    old?.close();
    channel.onFrame((frame) => {
      this.#lastHeard = performance.now();
      this.#onFrame(frame);
    });
    channel.onClose((err) => {
      if (this.#channel !== channel) return;
      clearInterval(this.#heartbeatTimer);
      this.#channel = null;
      this.#welcomed = false;
      this.#failCodeWaiters(err?.message ?? 'connection closed');
      this.#host.log('coordinator-lost', { coordinator: this.key, ...(err && { error: err.message }) });
      this.#host.linkLost(this);
    });
    channel.send({
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        runtime: Runtime.RUNTIME_NODE,
        threads: this.#host.threads,
        kinds: this.#host.kinds,
        clientVersion: this.#host.version,
        trustsCoordinator: this.#host.trusts(this.key),
        joinToken: this.#host.joinToken(this.key),
        ...(this.#host.instance && { instance: this.#host.instance }),
        blobs: true,
      },
    });
  }

  #onFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'welcome':
        this.#welcomed = true;
        this.#credited = 0;
        this.#maxCredit = frame.welcome.maxCredit || Number.MAX_SAFE_INTEGER;
        this.#maxFrameBytes = Math.min(frame.welcome.maxFrameBytes || DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES);
        this.#maxPayloadBytes = frame.welcome.maxPayloadBytes || DEFAULT_MAX_PAYLOAD_BYTES;
        this.#inputs.maxPayloadBytes = this.#maxPayloadBytes;
        this.#startHeartbeat(frame.welcome.heartbeatMs || 3000);
        this.#host.log('coordinator-joined', { coordinator: this.key, resent: this.unacked.size });
        this.#host.linkWelcomed?.(this);
        // Resent in frames packed by size: what piled up while away may be far more than one frame.
        if (this.unacked.size > 0) this.#sendResults([...this.unacked.values()]);
        this.#inputs.resendAll();
        this.topUpCredit();
        return;
      case 'assign':
        return this.#onAssign(frame.assign.tasks);
      case 'ack':
        for (const id of frame.ack.taskIds) this.unacked.delete(Number(id));
        return;
      case 'cancel':
        for (const id of frame.cancel.taskIds) {
          const held = this.held.get(Number(id));
          if (!held) continue;
          this.held.delete(Number(id));
          held.controller.abort(new Error(frame.cancel.reason || 'cancelled'));
        }
        this.topUpCredit();
        this.#host.pump();
        return;
      case 'codeBundle': {
        // Unsolicited bundles are ignored: only what a task of ours asked for is ever checked.
        const hex = Buffer.from(frame.codeBundle.codeHash).toString('hex');
        const waiter = this.#codeWaiters.get(hex);
        this.#codeWaiters.delete(hex);
        waiter?.resolve(frame.codeBundle);
        return;
      }
      case 'blobChunk':
        return this.#inputs.onChunk(frame.blobChunk);
      case 'heartbeat':
        return;
      case 'error': {
        // Refused before Welcome for want of a token: the coordinator is private.
        const hint = frame.error.code === 'GRID_ERR_UNAUTHORIZED' && !this.#welcomed
          ? { hint: `this coordinator is private: ask its operator for a join token and start the worker with --join ${this.key}=TOKEN` }
          : {};
        this.#host.log('coordinator-error', { coordinator: this.key, code: frame.error.code, message: frame.error.message, ...hint });
        if (frame.error.code === 'GRID_ERR_DUPLICATE_IDENTITY') this.#host.identityInUse?.(this, frame.error.message);
        return;
      }
      default:
        if (!this.#welcomed) throw ProtoErrors.PROTOCOL(`expected Welcome, got ${frame.kind}`);
        throw ProtoErrors.PROTOCOL(`a coordinator may not send ${frame.kind}`);
    }
  }

  #onAssign(tasks: swarmgrid.ITask[]): void {
    const untrusted = new Map<string, number[]>();
    const noWasm = new Map<string, number[]>();
    const handBack: number[] = [];
    for (const task of tasks) {
      const id = Number(task.taskId);
      if (this.held.has(id)) continue;
      this.#credited = Math.max(0, this.#credited - 1);
      if (task.codeHash && task.codeHash.length > 0 && task.wasm && this.#host.runsWasm === false) {
        const kind = `${task.kind ?? ''}@${task.kindVersion ?? ''}`;
        noWasm.set(kind, [...(noWasm.get(kind) ?? []), id]);
        continue;
      }
      if (task.codeHash && task.codeHash.length > 0 && !task.wasm && !this.#host.trusts(this.key)) {
        // Custom code from a coordinator the volunteer did not trust: never fetched, never run.
        // (A WASM kind is fetched: the agent runs it only if the bundle is one, agent.ts.)
        const kind = `${task.kind ?? ''}@${task.kindVersion ?? ''}`;
        untrusted.set(kind, [...(untrusted.get(kind) ?? []), id]);
        continue;
      }
      // Sent before our pause reached the coordinator: hand it straight back.
      if (this.#host.paused) handBack.push(id);
      else this.held.set(id, { task, state: 'queued', controller: new AbortController(), receivedAt: performance.now() });
    }
    for (const [kind, ids] of untrusted) {
      const err = WorkerErrors.UNTRUSTED_CODE(kind, this.key);
      this.declineKind(kind.slice(0, kind.lastIndexOf('@')), ids, `${err.code}: ${err.message}`);
    }
    for (const [kind, ids] of noWasm) {
      const err = WorkerErrors.WASM_REFUSED(kind);
      this.declineKind(kind.slice(0, kind.lastIndexOf('@')), ids, `${err.code}: ${err.message}`);
    }
    if (handBack.length > 0) this.returnTasks(handBack, 'worker paused');
    if (untrusted.size > 0 || noWasm.size > 0) this.topUpCredit();
    this.#host.pump();
  }

  /**
   * A coordinator killed outright (kill -9, power cut) leaves a half-open stream that the
   * transport notices only after 13-17 s. A Heartbeat each period, and a channel dropped when the
   * previous one went unanswered, notices within two periods, and the redial starts at once.
   */
  #startHeartbeat(periodMs: number): void {
    clearInterval(this.#heartbeatTimer);
    this.#pingSentAt = 0;
    const channel = this.#channel;
    this.#heartbeatTimer = setInterval(() => {
      if (this.#channel !== channel || !channel || channel.closed) {
        clearInterval(this.#heartbeatTimer);
        return;
      }
      if (this.#pingSentAt > 0 && this.#lastHeard < this.#pingSentAt) {
        channel.close(new Error('coordinator stopped answering heartbeats'));
        return;
      }
      // Monotonic, like #lastHeard: a wall clock stepped back must not make an answered
      // heartbeat look unanswered. The frame carries wall time, for people reading it.
      this.#pingSentAt = performance.now();
      channel.send({ heartbeat: { timeMs: Date.now() } });
    }, periodMs);
    this.#heartbeatTimer.unref();
  }

  /** Grants credit so that held + credited reaches this link's prefetch. */
  topUpCredit(): void {
    if (!this.connected) return;
    // The coordinator honours at most maxCredit in flight, credit and tasks held together:
    // asking for more would leave credit here that the coordinator never grants, and the worker
    // would stop asking.
    const want = Math.min(this.#host.prefetchFor(this), this.#maxCredit) - this.held.size - this.#credited;
    if (want <= 0) return;
    this.#credited += want;
    this.#channel!.send({ credit: { tasks: want } });
  }

  /**
   * The input of a task sent as a blob (Task.input_hash): fetched piece by piece, its SHA-256
   * checked. Waits across reconnects; rejects when `signal` aborts (task cancelled or handed
   * back) or the coordinator no longer has it (GRID_ERR_BLOB_UNAVAILABLE).
   */
  fetchInput(taskId: number, hash: Uint8Array, size: number, signal: AbortSignal): Promise<Uint8Array> {
    return this.#inputs.fetch(taskId, hash, size, signal, this.connected);
  }

  /** Asks the coordinator for a code bundle (one request per hash at a time). */
  requestCode(hash: Uint8Array): Promise<swarmgrid.ICodeBundle> {
    const hex = Buffer.from(hash).toString('hex');
    const pending = this.#codeWaiters.get(hex);
    if (pending) return pending.promise;
    if (!this.connected) return Promise.reject(new Error('coordinator not connected'));
    let resolve!: (bundle: swarmgrid.ICodeBundle) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<swarmgrid.ICodeBundle>((res, rej) => { resolve = res; reject = rej; });
    const timer = setTimeout(() => {
      this.#codeWaiters.delete(hex);
      reject(new Error(`no answer within ${CODE_REQUEST_TIMEOUT_MS} ms`));
    }, CODE_REQUEST_TIMEOUT_MS);
    const waiter: CodeWaiter = {
      promise,
      resolve: (b) => { clearTimeout(timer); resolve(b); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    };
    this.#codeWaiters.set(hex, waiter);
    this.#channel!.send({ codeRequest: { codeHash: hash } });
    return promise;
  }

  #failCodeWaiters(reason: string): void {
    const waiters = [...this.#codeWaiters.values()];
    this.#codeWaiters.clear();
    for (const w of waiters) w.reject(new Error(reason));
  }

  /** A held task finished (or failed): queue its result for the next coalesced Result frame. */
  complete(taskId: number, result: swarmgrid.ITaskResult): void {
    if (!this.held.delete(taskId)) return; // cancelled meanwhile: the coordinator does not want it
    this.tasksDone++;
    this.#sizeUp(result);
    this.unacked.set(taskId, result);
    this.#outbox.push(result);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const results = this.#outbox;
    this.#outbox = [];
    // Disconnected: the results stay in `unacked` and go out again after Welcome.
    if (!this.connected || results.length === 0) return;
    this.#sendResults(results);
    this.topUpCredit();
  }

  /**
   * An output bigger than the coordinator carries becomes error "output_too_large" (the task
   * fails, the link stays); one bigger than a frame is named by its hash and sent as a blob.
   * Judged against the coordinator's limits last heard (defaults before the first Welcome).
   */
  #sizeUp(result: swarmgrid.ITaskResult): void {
    const size = result.output?.byteLength ?? 0;
    if (size > this.#maxPayloadBytes) {
      const message = `output of ${size} bytes exceeds the ${this.#maxPayloadBytes} bytes this coordinator accepts per task`;
      this.#host.log('task-failed', { coordinator: this.key, task: Number(result.taskId), error: 'output_too_large', message });
      Object.assign(result, { output: undefined, errorCode: 'output_too_large', errorMessage: message });
      return;
    }
    if (!fitsInline(size, this.#maxFrameBytes)) result.outputHash = sha256(result.output!);
  }

  #sendResults(results: swarmgrid.ITaskResult[]): void {
    for (const r of results) if (!r.errorCode && !r.outputHash?.byteLength) this.#sizeUp(r);
    for (const frame of resultFrames(results, this.#maxFrameBytes)) this.#channel!.send(frame);
  }

  /** Graceful leave: hand back everything held so the coordinator re-issues it at once. */
  goodbye(reason: string): number[] {
    const returned = [...this.held.keys()];
    for (const held of this.held.values()) held.controller.abort(new Error(reason));
    this.held.clear();
    if (this.connected) this.#channel!.send({ goodbye: { returnedTaskIds: returned, reason } });
    return returned;
  }

  /** Declines tasks of a kind this worker will not run; the coordinator stops offering it. */
  declineKind(kind: string, taskIds: number[], reason: string): void {
    for (const id of taskIds) {
      this.held.get(id)?.controller.abort(new Error(reason));
      this.held.delete(id);
    }
    if (this.connected) this.#channel!.send({ decline: { taskIds, reason, kind } });
    this.#host.log('kind-declined', { coordinator: this.key, kind, tasks: taskIds.length, reason });
  }

  /**
   * Hands tasks back for immediate re-issue (a Decline without a kind). The coordinator also
   * drops this worker's outstanding credit, so ours restarts from zero: when not paused, fresh
   * credit follows at once.
   */
  returnTasks(taskIds: number[], reason: string): void {
    for (const id of taskIds) {
      this.held.get(id)?.controller.abort(new Error(reason));
      this.held.delete(id);
    }
    this.#credited = 0;
    if (this.connected) this.#channel!.send({ decline: { taskIds, reason, kind: '' } });
    if (!this.#host.paused) this.topUpCredit();
  }

  /**
   * Hands back every task not running in a thread yet (held here, or waiting in the runner for a
   * batch), e.g. when the owner gets busy. Sent even when nothing is queued: it also cancels the
   * credit outstanding, so no new task arrives while paused.
   */
  returnQueued(reason: string): number[] {
    const ids = [...this.held].filter(([, h]) => h.state !== 'running').map(([id]) => id);
    this.returnTasks(ids, reason);
    return ids;
  }

  close(): void {
    const channel = this.#channel;
    this.#channel = null;
    this.#welcomed = false;
    this.#failCodeWaiters('worker closing');
    channel?.close();
  }
}
