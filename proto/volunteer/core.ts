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
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../payloads.js';
import type { VolunteerClock } from './clock.js';
import { CodeRequests } from './code-requests.js';
import { DEFAULT_HEARTBEAT_MS, Heartbeat } from './heartbeat.js';
import { ResultOutbox } from './results.js';

export { DEFAULT_HEARTBEAT_MS } from './heartbeat.js';

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
  protected readonly host: VolunteerHost;
  protected readonly clock: VolunteerClock;
  #opts: VolunteerCoreOptions;
  #channel: Channel | null = null;
  #welcomed = false;
  #credited = 0;
  #maxCredit = Number.MAX_SAFE_INTEGER;
  #code: CodeRequests;
  #inputs: InputFetches;
  #results: ResultOutbox;
  #heartbeat: Heartbeat;

  constructor(host: VolunteerHost, options: VolunteerCoreOptions) {
    this.host = host;
    this.clock = options.clock;
    this.#opts = options;
    this.#code = new CodeRequests(options.clock);
    this.#heartbeat = new Heartbeat(options.clock);
    this.#inputs = new InputFetches({
      request: (blobRequest) => this.#channel!.send({ blobRequest }),
      digest: options.digest,
      unavailable: (taskId) => this.blobUnavailable(taskId),
      mismatch: (taskId) => this.#channel?.close(ProtoErrors.PROTOCOL(`input of task ${taskId} does not match its SHA-256`)),
    });
    this.#results = new ResultOutbox({
      clock: options.clock,
      digest: options.digest,
      resultDelayMs: options.resultDelayMs ?? 0,
      connected: () => this.connected,
      send: (frame) => this.#channel!.send(frame),
      sent: () => this.topUpCredit(),
      log: (event, fields) => this.log(event, fields),
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

  /** Results sent (or to be sent) and not acknowledged yet, by task id. */
  get unacked(): ReadonlyMap<number, swarmgrid.ITaskResult> {
    return this.#results.unacked;
  }

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
    this.#heartbeat.heard();
    old?.close();
    channel.onFrame((frame) => {
      this.#heartbeat.heard();
      this.#onFrame(frame);
    });
    channel.onClose((err) => {
      if (this.#channel !== channel) return;
      this.#heartbeat.stop();
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
        return this.#results.ack(frame.ack.taskIds.map(Number));
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
    this.#results.maxFrameBytes = Math.min(welcome.maxFrameBytes || DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES);
    this.#results.maxPayloadBytes = this.#inputs.maxPayloadBytes = welcome.maxPayloadBytes || DEFAULT_MAX_PAYLOAD_BYTES;
    this.#heartbeat.start(this.#channel!, welcome.heartbeatMs || DEFAULT_HEARTBEAT_MS);
    this.onWelcome(welcome);
    // Resent in frames packed by size: what piled up while away may be far more than one frame.
    this.#results.resendAll();
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
    this.#results.add(taskId, result);
  }

  /**
   * Graceful leave: results waiting for their frame go out, then everything held is handed back
   * (Goodbye) so that the coordinator re-issues it at once. Returns the task ids handed back.
   */
  goodbye(reason: string): number[] {
    this.#results.flushNow();
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
    this.#heartbeat.stop();
    this.#code.failAll(reason);
    channel?.close();
  }
}
