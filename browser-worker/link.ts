/**
 * The browser volunteer's side of its coordinator: worker/link.ts's protocol (Hello, Credit,
 * Assign, coalesced Result, Ack, Cancel, Decline, Goodbye) over the page's WebSocket. It outlives
 * sockets: tasks keep running while the coordinator is away, and results not yet acknowledged
 * are sent again after reconnecting, so a dropped Wi-Fi or a restarted coordinator loses nothing.
 */
import type { Channel } from '../proto/channel.js';
import { type Frame, PROTOCOL_VERSION, Runtime, type swarmgrid } from '../proto/codec.js';
import { ProtoErrors } from '../proto/errors.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../proto/codec.js';
import { InputFetches } from '../proto/input-fetches.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, fitsInline, resultFrames } from '../proto/payloads.js';
import { nextTurn } from './next-turn.js';
import { BrowserSocketChannel, SocketClosedError } from './socket-channel.js';

export interface HeldTask {
  task: swarmgrid.ITask;
  state: 'queued' | 'running';
  controller: AbortController;
}

export interface LinkHost {
  readonly kinds: string[];
  readonly threads: number;
  readonly version: string;
  readonly paused: boolean;
  /** Tasks to hold (queued + running). */
  prefetch(): number;
  /** New tasks arrived: start what fits. */
  pump(): void;
  /** Something the page shows changed. */
  changed(): void;
}


export type LinkState = 'connecting' | 'connected' | 'offline' | 'closed';

export interface LinkOptions {
  /** ws(s)://host/v1/volunteer?id=… */
  url: string;
  /** Reconnect delays grow from this… @defaultValue 500 */
  minBackoffMs?: number;
  /** …to this. @defaultValue 30000 */
  maxBackoffMs?: number;
}

export class VolunteerLink {
  readonly held = new Map<number, HeldTask>();
  readonly unacked = new Map<number, swarmgrid.ITaskResult>();
  /** The coordinator's key, from Welcome. */
  coordinatorKey = '';
  /** The last error the coordinator or the socket reported, for the page. */
  lastError = '';
  /** When the next reconnect attempt is due (ms since epoch), while offline. */
  retryAt = 0;
  #opts: Required<LinkOptions>;
  #host: LinkHost;
  #channel: Channel | null = null;
  #state: LinkState = 'closed';
  #welcomed = false;
  #outbox: swarmgrid.ITaskResult[] = [];
  #flushScheduled = false;
  #credited = 0;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #pingSentAt = 0;
  /** From Welcome: what the coordinator accepts in one frame, and in one task's output. */
  #maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  #maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
  #codeWaiters = new Map<string, { resolve: (b: swarmgrid.ICodeBundle) => void; reject: (err: Error) => void }[]>();
  #inputs = new InputFetches({
    request: (blobRequest) => this.#channel!.send({ blobRequest }),
    digest: async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)),
    unavailable: (taskId) => new Error(`GRID_ERR_BLOB_UNAVAILABLE: the coordinator no longer has the input of task ${taskId}`),
    mismatch: (taskId) => this.#channel?.close(ProtoErrors.PROTOCOL(`input of task ${taskId} does not match its SHA-256`)),
  });

  constructor(host: LinkHost, options: LinkOptions) {
    this.#host = host;
    this.#opts = { minBackoffMs: 500, maxBackoffMs: 30_000, ...options };
  }

  get state(): LinkState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#welcomed && this.#channel !== null && !this.#channel.closed;
  }

  /** Connects, and keeps reconnecting with backoff until `stop()`. */
  start(): void {
    if (this.#state !== 'closed') return;
    this.#connect();
  }

  #setState(state: LinkState): void {
    this.#state = state;
    this.#host.changed();
  }

  async #connect(): Promise<void> {
    this.#setState('connecting');
    let channel: BrowserSocketChannel;
    try {
      channel = await BrowserSocketChannel.open(this.#opts.url);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.#retry();
      return;
    }
    if (this.#state === 'closed') {
      channel.close(); // stopped while connecting
      return;
    }
    this.#attach(channel);
  }

  #retry(): void {
    if (this.#state === 'closed') return;
    // Exponential backoff with jitter, so a restarted coordinator is not hit by every tab at once.
    const base = Math.min(this.#opts.maxBackoffMs, this.#opts.minBackoffMs * 2 ** this.#attempt++);
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.retryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#setState('offline');
  }

  #attach(channel: Channel): void {
    this.#channel = channel;
    this.#welcomed = false;
    this.#lastHeard = performance.now();
    channel.onFrame((frame) => this.#onFrame(frame));
    channel.onClose((err) => {
      if (this.#channel !== channel) return;
      for (const waiting of this.#codeWaiters.values()) for (const w of waiting) w.reject(new Error('the connection to the coordinator closed'));
      this.#codeWaiters.clear();
      this.#channel = null;
      this.#welcomed = false;
      clearInterval(this.#heartbeatTimer);
      if (err) this.lastError = err instanceof SocketClosedError || !('code' in err) ? err.message : `${String(err.code)}: ${err.message}`;
      this.#retry();
    });
    channel.send({
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        runtime: Runtime.RUNTIME_BROWSER,
        threads: this.#host.threads,
        kinds: this.#host.kinds,
        clientVersion: this.#host.version,
        // No custom JavaScript: the page runs only its own bundle, and WASM kinds in their sandbox.
        trustsCoordinator: false,
        blobs: true,
      },
    });
  }

  #onFrame(frame: Frame): void {
    this.#lastHeard = performance.now();
    switch (frame.kind) {
      case 'welcome':
        return this.#onWelcome(frame.welcome);
      case 'assign':
        for (const task of frame.assign.tasks) {
          const id = Number(task.taskId);
          if (this.held.has(id)) continue;
          this.held.set(id, { task, state: 'queued', controller: new AbortController() });
          this.#credited = Math.max(0, this.#credited - 1);
        }
        // Tasks already on their way when we paused: hand them straight back.
        if (this.#host.paused) this.returnQueued('paused by the volunteer');
        this.#host.pump();
        this.#host.changed();
        return;
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
      case 'blobChunk':
        return this.#inputs.onChunk(frame.blobChunk);
      case 'codeBundle': {
        const key = hex(frame.codeBundle.codeHash);
        const waiting = this.#codeWaiters.get(key) ?? [];
        this.#codeWaiters.delete(key);
        for (const w of waiting) w.resolve(frame.codeBundle);
        return;
      }
      case 'heartbeat':
        return;
      case 'error':
        this.lastError = `${frame.error.code}: ${frame.error.message}`;
        this.#host.changed();
        return;
      default:
        if (!this.#welcomed) throw ProtoErrors.PROTOCOL(`expected Welcome, got ${frame.kind}`);
        throw ProtoErrors.PROTOCOL(`a coordinator may not send ${frame.kind}`);
    }
  }

  #onWelcome(welcome: swarmgrid.Welcome): void {
    this.#welcomed = true;
    this.#attempt = 0;
    this.#credited = 0;
    this.lastError = '';
    this.coordinatorKey = [...welcome.coordinatorKey].map((b) => b.toString(16).padStart(2, '0')).join('');
    this.#maxFrameBytes = Math.min(welcome.maxFrameBytes || DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES);
    this.#maxPayloadBytes = welcome.maxPayloadBytes || DEFAULT_MAX_PAYLOAD_BYTES;
    this.#inputs.maxPayloadBytes = this.#maxPayloadBytes;
    // Resent in frames packed by size: what piled up while away may be far more than one frame.
    if (this.unacked.size > 0) this.#sendResults([...this.unacked.values()]);
    this.#inputs.resendAll();
    this.#startHeartbeat(welcome.heartbeatMs || 15_000);
    this.#setState('connected');
    this.topUpCredit();
  }

  /**
   * Heartbeats keep proxies from idling the socket out, and the coordinator's answers prove it is
   * alive: a heartbeat still unanswered a period later means a half-open socket (laptop slept,
   * network changed), dropped so that the reconnect logic takes over. Judged per tick, not by the
   * clock, because hidden tabs run intervals late (Chrome: once a minute after five minutes).
   */
  #startHeartbeat(periodMs: number): void {
    clearInterval(this.#heartbeatTimer);
    this.#pingSentAt = 0;
    this.#heartbeatTimer = setInterval(() => {
      if (this.#pingSentAt > 0 && this.#lastHeard < this.#pingSentAt) {
        this.#channel?.close(new Error('coordinator stopped answering'));
        return;
      }
      // Monotonic, like #lastHeard: a wall clock stepped back must not make an answered
      // heartbeat look unanswered. The frame carries wall time, for people reading it.
      this.#pingSentAt = performance.now();
      this.#channel?.send({ heartbeat: { timeMs: Date.now() } });
    }, periodMs);
  }

  /**
   * The input of a task sent as a blob (Task.input_hash): fetched piece by piece, its SHA-256
   * checked (WebCrypto). Waits across reconnects; rejects when `signal` aborts or the coordinator
   * no longer has it.
   */
  fetchInput(taskId: number, hash: Uint8Array, size: number, signal: AbortSignal): Promise<Uint8Array> {
    return this.#inputs.fetch(taskId, hash, size, signal, this.connected);
  }

  /**
   * A WASM kind's code bundle by hash (CodeRequest → CodeBundle), unchecked: code-bundles.ts
   * checks it. Rejects when the connection drops first.
   */
  requestCode(hash: Uint8Array): Promise<swarmgrid.ICodeBundle> {
    if (!this.connected) return Promise.reject(new Error('not connected to the coordinator'));
    const key = hex(hash);
    return new Promise((resolve, reject) => {
      const waiting = this.#codeWaiters.get(key);
      if (waiting) return waiting.push({ resolve, reject });
      this.#codeWaiters.set(key, [{ resolve, reject }]);
      this.#channel!.send({ codeRequest: { codeHash: hash } });
    });
  }

  /** Hands tasks back unrun (a Decline without a kind), e.g. an input the coordinator no longer has. */
  returnTasks(taskIds: number[], reason: string): void {
    for (const id of taskIds) this.held.delete(id);
    if (this.connected) this.#channel!.send({ decline: { taskIds, reason, kind: '' } });
    this.#credited = 0;
    this.topUpCredit();
  }

  /** Refuses a kind for good (a code bundle that failed its checks): the coordinator stops offering it. */
  declineKind(kind: string, taskIds: number[], reason: string): void {
    for (const id of taskIds) this.held.delete(id);
    if (this.connected) this.#channel!.send({ decline: { taskIds, reason, kind } });
    this.topUpCredit();
  }

  /** Grants credit so that held + credited reaches the prefetch (none while paused). */
  topUpCredit(): void {
    if (!this.connected || this.#host.paused) return;
    const want = this.#host.prefetch() - this.held.size - this.#credited;
    if (want <= 0) return;
    this.#credited += want;
    this.#channel!.send({ credit: { tasks: want } });
  }

  /** A held task finished (or failed): queue its result for the next coalesced Result frame. */
  complete(taskId: number, result: swarmgrid.ITaskResult): void {
    if (!this.held.delete(taskId)) return; // cancelled meanwhile: the coordinator does not want it
    this.unacked.set(taskId, result);
    const size = result.output?.byteLength ?? 0;
    if (size > this.#maxPayloadBytes) {
      // More than the coordinator carries: the task fails, the link stays.
      Object.assign(result, { output: undefined, errorCode: 'output_too_large', errorMessage: `output of ${size} bytes exceeds the ${this.#maxPayloadBytes} bytes this coordinator accepts per task` });
    } else if (!fitsInline(size, this.#maxFrameBytes)) {
      // Bigger than a frame: named by its SHA-256 and sent as a blob (hashing is async here).
      void crypto.subtle.digest('SHA-256', result.output as Uint8Array<ArrayBuffer>).then((hash) => {
        result.outputHash = new Uint8Array(hash);
        this.#queue(result);
      });
      return;
    }
    this.#queue(result);
  }

  #queue(result: swarmgrid.ITaskResult): void {
    if (!this.unacked.has(Number(result.taskId))) return;
    this.#outbox.push(result);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    nextTurn(() => this.#flush());
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

  #sendResults(results: swarmgrid.ITaskResult[]): void {
    // A big output still being hashed goes out when its hash is ready (#queue).
    const ready = results.filter((r) => r.errorCode || r.outputHash?.byteLength || fitsInline(r.output?.byteLength ?? 0, this.#maxFrameBytes));
    for (const frame of resultFrames(ready, this.#maxFrameBytes)) this.#channel!.send(frame);
  }

  /**
   * Pausing: queued tasks go back with a kind-less Decline, which also sets our credit at the
   * coordinator to zero; running tasks finish and report. Resuming is just new Credit.
   */
  returnQueued(reason: string): number[] {
    const ids: number[] = [];
    for (const [id, held] of this.held) {
      if (held.state !== 'queued') continue;
      ids.push(id);
      this.held.delete(id);
    }
    this.#credited = 0;
    if (this.connected) this.#channel!.send({ decline: { taskIds: ids, reason, kind: '' } });
    return ids;
  }

  /** The tab is going away: results out, everything held handed back for immediate re-issue. */
  goodbye(reason: string): number[] {
    if (this.#flushScheduled) this.#flush();
    const returned = [...this.held.keys()];
    for (const held of this.held.values()) held.controller.abort(new Error(reason));
    this.held.clear();
    if (this.connected) this.#channel!.send({ goodbye: { returnedTaskIds: returned, reason } });
    this.stop();
    return returned;
  }

  /** Stops reconnecting and closes the socket. `start()` again to come back. */
  stop(): void {
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeatTimer);
    const channel = this.#channel;
    this.#channel = null;
    this.#welcomed = false;
    channel?.close();
    this.#host.changed();
  }
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
