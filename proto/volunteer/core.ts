/**
 * The volunteer's side of the protocol with one coordinator, written once for both volunteers:
 * the node worker (worker/link.ts, over Hyperswarm) and the browser page (browser-worker/link.ts,
 * over a WebSocket, in a Web Worker). Hello and Welcome, the tasks held, credit, coalesced
 * Results and their Acks, Cancel, Decline, Goodbye, heartbeats, input blobs and code requests.
 *
 * It outlives connections: tasks keep running while the coordinator is away, and results not yet
 * acknowledged are sent again after the next Welcome, so nothing computed is lost to a dropped
 * connection or a restarted coordinator. Isomorphic: no node: module, no DOM; it talks to a
 * `Channel` and takes its time from a `VolunteerClock`. An adapter subclasses it for a runtime:
 * how channels are opened and redialled, what Hello says about trust, what is logged or shown.
 */
import type { Channel } from '../channel.js';
import { DEFAULT_MAX_FRAME_BYTES, type Frame, PROTOCOL_VERSION, type swarmgrid } from '../codec.js';
import { ProtoErrors } from '../errors.js';
import { InputFetches } from '../input-fetches.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, fitsInline, resultFrames } from '../payloads.js';
import type { VolunteerClock } from './clock.js';
import { CodeRequests } from './code-requests.js';

/**
 * Heartbeat period when a Welcome names none, ms: the period every coordinator of this protocol
 * sends (coordinator/session.ts `HEARTBEAT_MS`, which is this constant). A killed coordinator is
 * then noticed within two periods, 6 s, well before the transport's own 13-17 s.
 */
export const DEFAULT_HEARTBEAT_MS = 3000;

export interface HeldTask {
  task: swarmgrid.ITask;
  /** queued here; handed to the runner (waiting there for a thread); running. */
  state: 'queued' | 'handed' | 'running';
  /** Aborted when the task is cancelled, handed back or declined. */
  controller: AbortController;
  /** When the Assign arrived (the clock's `now()`): its lease runs from here, on our clock. */
  receivedAt: number;
}

/** What the core needs from the volunteer it serves. */
export interface VolunteerHost {
  /** Job kinds run here, `name@version` (Hello.kinds). */
  readonly kinds: string[];
  readonly threads: number;
  readonly version: string;
  /** Taking no new tasks (paused by the volunteer, busy, or shutting down). */
  readonly paused: boolean;
  /** New tasks arrived or a slot freed: start what fits. */
  pump(): void;
}

export interface VolunteerCoreOptions {
  runtime: swarmgrid.Runtime;
  clock: VolunteerClock;
  /** SHA-256 (node:crypto in Node, WebCrypto in browsers). */
  digest(bytes: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * How long a finished task's result waits for others to share its Result frame, ms; 0: the
   * clock's next turn. @defaultValue 0
   */
  resultDelayMs?: number;
  /** The reason sent with tasks handed back because they arrived while paused. @defaultValue 'paused' */
  pausedReason?: string;
}

export abstract class VolunteerCore {
  readonly held = new Map<number, HeldTask>();
  /** Results sent (or to be sent) and not acknowledged yet, by task id. */
  readonly unacked = new Map<number, swarmgrid.ITaskResult>();
  protected readonly host: VolunteerHost;
  protected readonly clock: VolunteerClock;
  #opts: VolunteerCoreOptions;
  #channel: Channel | null = null;
  #welcomed = false;
  #outbox: swarmgrid.ITaskResult[] = [];
  #flushScheduled = false;
  #flushTimer: unknown;
  /** Outputs too big for a frame whose SHA-256 is being computed (asynchronous digests). */
  #hashing = new Set<swarmgrid.ITaskResult>();
  #credited = 0;
  #maxCredit = Number.MAX_SAFE_INTEGER;
  #heartbeatTimer: unknown;
  #pingSentAt = 0;
  #lastHeard = 0;
  /** From Welcome: what the coordinator accepts in one frame, and in one task's output. */
  #maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  #maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
  #code: CodeRequests;
  #inputs: InputFetches;

  constructor(host: VolunteerHost, options: VolunteerCoreOptions) {
    this.host = host;
    this.clock = options.clock;
    this.#opts = options;
    this.#code = new CodeRequests(options.clock);
    this.#inputs = new InputFetches({
      request: (blobRequest) => this.#channel!.send({ blobRequest }),
      digest: options.digest,
      unavailable: (taskId) => this.blobUnavailable(taskId),
      mismatch: (taskId) => this.#channel?.close(ProtoErrors.PROTOCOL(`input of task ${taskId} does not match its SHA-256`)),
    });
  }

  // ---- What an adapter says about its runtime ----

  /** Tasks to hold (queued + running): this link's share of the prefetch; 0 takes none. */
  protected abstract prefetch(): number;
  /** Hello's fields beyond the core's (trust, join token, instance). */
  protected helloFields(): Partial<swarmgrid.IHello> {
    return {};
  }
  /** A refusal reason (`GRID_ERR_…: message`) for a task this volunteer will not run, else undefined. */
  protected refusal(_task: swarmgrid.ITask): string | undefined {
    return undefined;
  }
  /** The error a fetch of a task's input rejects with when the coordinator no longer has it. */
  protected abstract blobUnavailable(taskId: number): Error;
  /** Welcome arrived (before results are resent and credit granted). */
  protected onWelcome(_welcome: swarmgrid.Welcome): void {}
  /** The connection dropped underneath us (not closed by `close()` or a new `attach`). */
  protected onLost(_err?: Error): void {}
  /** The coordinator sent an Error frame; `welcomed`: after its Welcome. */
  protected onCoordinatorError(_error: swarmgrid.Error, _welcomed: boolean): void {}
  protected log(_event: string, _fields: Record<string, unknown>): void {}

  // ---- State ----

  get connected(): boolean {
    return this.#welcomed && this.#channel !== null && !this.#channel.closed;
  }

  get channel(): Channel | null {
    return this.#channel;
  }

  /** Starts speaking on a new channel: Hello now, Welcome expected. A previous channel is closed. */
  attach(channel: Channel): void {
    // Swap first: the old channel's close listener must see it was replaced, not lost.
    const old = this.#channel;
    this.#channel = channel;
    this.#welcomed = false;
    this.#lastHeard = this.clock.now();
    old?.close();
    channel.onFrame((frame) => {
      this.#lastHeard = this.clock.now();
      this.#onFrame(frame);
    });
    channel.onClose((err) => {
      if (this.#channel !== channel) return;
      this.clock.clearInterval(this.#heartbeatTimer);
      this.#channel = null;
      this.#welcomed = false;
      this.#code.failAll(err?.message ?? 'connection closed');
      this.onLost(err);
    });
    channel.send({
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        runtime: this.#opts.runtime,
        threads: this.host.threads,
        kinds: this.host.kinds,
        clientVersion: this.host.version,
        blobs: true,
        ...this.helloFields(),
      },
    });
  }

  #onFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'welcome':
        return this.#onWelcome(frame.welcome);
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
        this.host.pump();
        return;
      case 'codeBundle':
        return this.#code.answer(frame.codeBundle);
      case 'blobChunk':
        return this.#inputs.onChunk(frame.blobChunk);
      case 'heartbeat':
        return;
      case 'error':
        return this.onCoordinatorError(frame.error, this.#welcomed);
      default:
        if (!this.#welcomed) throw ProtoErrors.PROTOCOL(`expected Welcome, got ${frame.kind}`);
        throw ProtoErrors.PROTOCOL(`a coordinator may not send ${frame.kind}`);
    }
  }

  #onWelcome(welcome: swarmgrid.Welcome): void {
    this.#welcomed = true;
    this.#credited = 0;
    this.#maxCredit = welcome.maxCredit || Number.MAX_SAFE_INTEGER;
    this.#maxFrameBytes = Math.min(welcome.maxFrameBytes || DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES);
    this.#maxPayloadBytes = welcome.maxPayloadBytes || DEFAULT_MAX_PAYLOAD_BYTES;
    this.#inputs.maxPayloadBytes = this.#maxPayloadBytes;
    this.#startHeartbeat(welcome.heartbeatMs || DEFAULT_HEARTBEAT_MS);
    this.onWelcome(welcome);
    // Resent in frames packed by size: what piled up while away may be far more than one frame.
    if (this.unacked.size > 0) this.#sendResults([...this.unacked.values()]);
    this.#inputs.resendAll();
    this.topUpCredit();
  }

  #onAssign(tasks: swarmgrid.ITask[]): void {
    /** Refused tasks by kind name and reason: one Decline each. */
    const refused = new Map<string, { kind: string; reason: string; ids: number[] }>();
    const handBack: number[] = [];
    for (const task of tasks) {
      const id = Number(task.taskId);
      if (this.held.has(id)) continue;
      this.#credited = Math.max(0, this.#credited - 1);
      const reason = this.refusal(task);
      if (reason !== undefined) {
        const key = `${task.kind ?? ''}\n${reason}`;
        const entry = refused.get(key) ?? { kind: task.kind ?? '', reason, ids: [] };
        entry.ids.push(id);
        refused.set(key, entry);
        continue;
      }
      // Sent before our pause reached the coordinator: hand it straight back.
      if (this.host.paused) handBack.push(id);
      else this.held.set(id, { task, state: 'queued', controller: new AbortController(), receivedAt: this.clock.now() });
    }
    for (const { kind, reason, ids } of refused.values()) this.declineKind(kind, ids, reason);
    if (handBack.length > 0) this.returnTasks(handBack, this.#opts.pausedReason ?? 'paused');
    this.host.pump();
  }

  /**
   * A Heartbeat each period, answered by the coordinator; one still unanswered a period later
   * means a coordinator killed outright (kill -9, power cut) or a half-open connection (laptop
   * slept, network changed), which the transport notices only after 13-17 s or never: the
   * channel is dropped and the adapter redials. Judged per tick, not by elapsed time, because a
   * hidden tab may run intervals late. Heartbeats also keep proxies from idling a WebSocket out.
   */
  #startHeartbeat(periodMs: number): void {
    this.clock.clearInterval(this.#heartbeatTimer);
    this.#pingSentAt = 0;
    const channel = this.#channel;
    const timer = this.clock.setInterval(() => {
      if (this.#channel !== channel || !channel || channel.closed) {
        this.clock.clearInterval(timer);
        return;
      }
      if (this.#pingSentAt > 0 && this.#lastHeard < this.#pingSentAt) {
        channel.close(new Error('coordinator stopped answering heartbeats'));
        return;
      }
      // Monotonic, like #lastHeard: a wall clock stepped back must not make an answered
      // heartbeat look unanswered. The frame carries wall time, for people reading it.
      this.#pingSentAt = this.clock.now();
      channel.send({ heartbeat: { timeMs: Date.now() } });
    }, periodMs);
    this.#heartbeatTimer = timer;
  }

  /** Grants credit so that held + credited reaches the prefetch (none while paused). */
  topUpCredit(): void {
    if (!this.connected || this.host.paused) return;
    // The coordinator honours at most maxCredit in flight, credit and tasks held together:
    // asking for more would leave credit here that the coordinator never grants, and the
    // volunteer would stop asking.
    const want = Math.min(this.prefetch(), this.#maxCredit) - this.held.size - this.#credited;
    if (want <= 0) return;
    this.#credited += want;
    this.#channel!.send({ credit: { tasks: want } });
  }

  /**
   * The input of a task sent as a blob (Task.input_hash): fetched piece by piece, its SHA-256
   * checked. Waits across reconnects; rejects when `signal` aborts (task cancelled or handed
   * back) or the coordinator no longer has it (`blobUnavailable`).
   */
  fetchInput(taskId: number, hash: Uint8Array, size: number, signal: AbortSignal): Promise<Uint8Array> {
    return this.#inputs.fetch(taskId, hash, size, signal, this.connected);
  }

  /**
   * A code bundle by hash (CodeRequest → CodeBundle), unchecked: the caller checks it. Rejects
   * when not connected, when the connection drops first, or after 30 s without an answer.
   */
  requestCode(hash: Uint8Array): Promise<swarmgrid.ICodeBundle> {
    if (!this.connected) return Promise.reject(new Error('coordinator not connected'));
    return this.#code.request(hash, () => this.#channel!.send({ codeRequest: { codeHash: hash } }));
  }

  /** A held task finished (or failed): queue its result for the next coalesced Result frame. */
  complete(taskId: number, result: swarmgrid.ITaskResult): void {
    if (!this.held.delete(taskId)) return; // cancelled meanwhile: the coordinator does not want it
    this.unacked.set(taskId, result);
    if (this.#sizeUp(result)) this.#queue(result);
  }

  #queue(result: swarmgrid.ITaskResult): void {
    if (!this.unacked.has(Number(result.taskId))) return;
    this.#outbox.push(result);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    const delay = this.#opts.resultDelayMs ?? 0;
    if (delay > 0) this.#flushTimer = this.clock.setTimeout(() => this.#flush(), delay);
    else this.clock.nextTurn(() => this.#flush());
  }

  #flush(): void {
    this.clock.clearTimeout(this.#flushTimer);
    this.#flushScheduled = false;
    const results = this.#outbox;
    this.#outbox = [];
    // Disconnected: the results stay in `unacked` and go out again after Welcome.
    if (!this.connected || results.length === 0) return;
    this.#sendResults(results);
    this.topUpCredit();
  }

  /**
   * Readies a result for the wire against the coordinator's limits last heard (defaults before
   * the first Welcome). An output bigger than the coordinator carries becomes error
   * "output_too_large" (the task fails, the link stays); one bigger than a frame is named by its
   * SHA-256 and sent as a blob. Returns false while that hash is computed asynchronously: the
   * result is queued when it is ready.
   */
  #sizeUp(result: swarmgrid.ITaskResult): boolean {
    if (result.errorCode || result.outputHash?.byteLength) return true;
    const size = result.output?.byteLength ?? 0;
    if (size > this.#maxPayloadBytes) {
      const message = `output of ${size} bytes exceeds the ${this.#maxPayloadBytes} bytes this coordinator accepts per task`;
      this.log('task-failed', { task: Number(result.taskId), error: 'output_too_large', message });
      Object.assign(result, { output: undefined, errorCode: 'output_too_large', errorMessage: message });
      return true;
    }
    if (fitsInline(size, this.#maxFrameBytes)) return true;
    if (this.#hashing.has(result)) return false;
    const hash = this.#opts.digest(result.output!);
    if (hash instanceof Uint8Array) {
      result.outputHash = hash;
      return true;
    }
    this.#hashing.add(result);
    void hash.then((h) => {
      this.#hashing.delete(result);
      result.outputHash = h;
      this.#queue(result);
    });
    return false;
  }

  #sendResults(results: swarmgrid.ITaskResult[]): void {
    const ready = results.filter((r) => this.#sizeUp(r));
    for (const frame of resultFrames(ready, this.#maxFrameBytes)) this.#channel!.send(frame);
  }

  /**
   * Graceful leave: results waiting for their frame go out, then everything held is handed back
   * (Goodbye) so that the coordinator re-issues it at once. Returns the task ids handed back.
   */
  goodbye(reason: string): number[] {
    if (this.#flushScheduled) this.#flush();
    const returned = [...this.held.keys()];
    for (const held of this.held.values()) held.controller.abort(new Error(reason));
    this.held.clear();
    if (this.connected) this.#channel!.send({ goodbye: { returnedTaskIds: returned, reason } });
    return returned;
  }

  /** Declines tasks of a kind this volunteer will not run; the coordinator stops offering it. */
  declineKind(kind: string, taskIds: number[], reason: string): void {
    this.#drop(taskIds, reason);
    if (this.connected) this.#channel!.send({ decline: { taskIds, reason, kind } });
    this.log('kind-declined', { kind, tasks: taskIds.length, reason });
    this.topUpCredit();
  }

  /**
   * Hands tasks back for immediate re-issue (a Decline without a kind). The coordinator also
   * drops this volunteer's outstanding credit, so ours restarts from zero: when not paused,
   * fresh credit follows at once.
   */
  returnTasks(taskIds: number[], reason: string): void {
    this.#drop(taskIds, reason);
    this.#credited = 0;
    if (this.connected) this.#channel!.send({ decline: { taskIds, reason, kind: '' } });
    this.topUpCredit();
  }

  /**
   * Hands back every task not running yet (held here, or waiting in a runner), e.g. on pause.
   * Sent even when nothing is queued: it also cancels the credit outstanding, so no new task
   * arrives while paused. Running tasks finish and report.
   */
  returnQueued(reason: string): number[] {
    const ids = [...this.held].filter(([, h]) => h.state !== 'running').map(([id]) => id);
    this.returnTasks(ids, reason);
    return ids;
  }

  #drop(taskIds: number[], reason: string): void {
    for (const id of taskIds) {
      this.held.get(id)?.controller.abort(new Error(reason));
      this.held.delete(id);
    }
  }

  /** Closes the channel (no Goodbye: see `goodbye`). Held tasks and unacknowledged results stay. */
  close(reason = 'volunteer closing'): void {
    const channel = this.#channel;
    this.#channel = null;
    this.#welcomed = false;
    this.clock.clearInterval(this.#heartbeatTimer);
    this.#code.failAll(reason);
    channel?.close();
  }
}
