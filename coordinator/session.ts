/**
 * One connected worker, seen from the coordinator: the protocol state machine over a Channel.
 * The same class serves Hyperswarm peers and browser WebSockets; only the Channel differs.
 */
import { type Channel } from '../proto/channel.js';
import { type Frame, PROTOCOL_VERSION, Runtime, type swarmgrid } from '../proto/codec.js';
import { ProtoErrors } from '../proto/errors.js';
import { assignFrames, BlobAssembly, blobFrames, DEFAULT_MAX_PAYLOAD_BYTES, fitsInline } from '../proto/payloads.js';
import { DEFAULT_HEARTBEAT_MS } from '../proto/volunteer/core.js';
import { sha256 } from './blobs.js';
import { CoordinatorErrors } from './errors.js';
import type { IdentityClaims } from './identity-claims.js';
import type { Scheduler } from './scheduler.js';
import type { WorkerHandle } from './worker-handle.js';

export interface SessionOptions {
  coordinatorKey: Uint8Array;
  version: string;
  maxFrameBytes: number;
  /**
   * Largest input or output of one task in bytes (proto/payloads.ts), announced in Welcome; an
   * upload bigger than this drops the peer. @defaultValue 16 MiB
   */
  maxPayloadBytes?: number;
  /**
   * Most tasks one connection may have in flight, credit and tasks held together: the figure
   * Welcome promises. @defaultValue 256 per thread the Hello names, at most 4096
   */
  maxCredit?: number;
  /** The first frame must be Hello within this many ms. @defaultValue 10000 */
  helloTimeoutMs?: number;
  /** Called when a worker declines a kind (recorded, and never offered it again). */
  onDecline?: (worker: string, kind: string, reason: string) => void;
  /** Kinds this worker declined in earlier sessions (asked once, at Hello). */
  declinedKinds?: (worker: string, trustsCoordinator: boolean) => Iterable<string>;
  /**
   * Set when this channel must show a join token in its Hello (a --private coordinator's
   * Hyperswarm volunteers): whether the token is valid. Otherwise the Hello is refused with
   * GRID_ERR_UNAUTHORIZED before anything is sent.
   */
  admit?: (joinToken: string) => boolean;
  /** Serves a code bundle for a custom kind, or undefined if unknown. */
  codeBundle?: (hash: Uint8Array) => swarmgrid.ICodeBundle | undefined;
  /**
   * Tells a second live process sharing a Hyperswarm worker's identity from one that redials
   * (identity-claims.ts); `evict` closes the open sessions of an instance found to be a duplicate.
   */
  claims?: { claims: IdentityClaims; evict: (key: string, instance: string) => void };
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * Workers send a Heartbeat this often and we answer; a worker that hears nothing for a period
 * drops the connection and redials (a killed coordinator is noticed in seconds, not after the
 * transport's 15 s timeout). One figure with the volunteers' default (proto/volunteer/core.ts).
 */
export const HEARTBEAT_MS = DEFAULT_HEARTBEAT_MS;

/** Bounds on what a Hello may claim: no real volunteer has more threads or kinds. */
export const MAX_HELLO_THREADS = 1024;
export const MAX_HELLO_KINDS = 1024;
/** Default in-flight cap per connection: per thread, and at most (see SessionOptions.maxCredit). */
const CREDIT_PER_THREAD = 256;
const MAX_CREDIT = 4096;

export class Session implements WorkerHandle {
  readonly channel: Channel;
  key: string;
  readonly address: string;
  /** From the channel, never from Hello: a WebSocket carries a browser, whatever it claims. */
  readonly runtime: 'node' | 'browser';
  /** The session's network (coordinator/networks.ts), from its address. */
  readonly network: string;
  credit = 0;
  threads = 0;
  tasksDone = 0;
  /** The worker process's instance (hex) from its Hello: '' for browsers and older workers. */
  instance = '';
  readonly connectedAt = Date.now();
  #scheduler: Scheduler;
  #opts: SessionOptions;
  #kinds = new Set<string>();
  #declined = new Set<string>();
  #trusts = false;
  /** The worker fetches inputs sent as blobs (Hello.blobs). */
  #blobs = false;
  /** Outputs arriving in BlobChunk frames, by task id, until their TaskResult. */
  #uploads = new Map<number, BlobAssembly>();
  #welcomed = false;
  #joined = false;
  #maxCredit = 0;
  #helloTimer: NodeJS.Timeout;
  #left = false;

  constructor(channel: Channel, scheduler: Scheduler, options: SessionOptions) {
    this.channel = channel;
    this.key = channel.remoteKey;
    this.address = channel.remoteAddress;
    this.runtime = channel.transport === 'websocket' ? 'browser' : 'node';
    this.network = scheduler.networkOf(this);
    this.#scheduler = scheduler;
    this.#opts = options;
    this.#helloTimer = setTimeout(() => channel.close(ProtoErrors.PROTOCOL('no Hello within the time limit')), options.helloTimeoutMs ?? 10_000);
    this.#helloTimer.unref();
    channel.onFrame((frame) => this.#onFrame(frame));
    channel.onClose(() => this.#onClose());
    // Counted from the first byte, not from Hello: connections that never say Hello take a
    // network's places too.
    if (scheduler.networks.join(this.network, this.key)) this.#joined = true;
    else channel.close(ProtoErrors.NETWORK_QUOTA(this.network, scheduler.networks.options.maxSessions));
  }

  get welcomed(): boolean {
    return this.#welcomed;
  }

  /** Whether this worker declined the kind (now or in an earlier session): the batch status says so. */
  hasDeclined(kind: string): boolean {
    return this.#declined.has(kind);
  }

  /** Whether its Hello said it runs this coordinator's custom code (a node worker started with --trust). */
  get trustsCoordinator(): boolean {
    return this.#trusts;
  }

  canRun(kind: string, version: string, custom: boolean, wasm = false): boolean {
    if (this.#declined.has(kind)) return false;
    if (!custom) return this.#kinds.has(`${kind}@${version}`);
    // WASM kinds run sandboxed, without trust, in node workers and browsers alike; a volunteer
    // that refuses them (--no-wasm) declines them once per session.
    if (wasm) return true;
    // Node workers are offered custom kinds whether they trust us or not: one that does not
    // answers with a Decline whose reason the operator can read, once per worker key. Browser
    // volunteers get them only when their Hello says they run them.
    return this.runtime === 'node' || this.#trusts;
  }

  sendTasks(tasks: swarmgrid.ITask[]): void {
    const max = this.#opts.maxFrameBytes;
    const sendable: swarmgrid.ITask[] = [];
    const unsendable: number[] = [];
    for (const t of tasks) {
      const size = t.input?.byteLength ?? 0;
      if (fitsInline(size, max)) sendable.push(t);
      // Too big for a frame: the worker fetches it by hash (BlobRequest), if it can.
      else if (this.#blobs) sendable.push({ ...t, input: new Uint8Array(0), inputHash: sha256(t.input!), inputSize: size });
      else unsendable.push(Number(t.taskId));
    }
    if (unsendable.length > 0) {
      this.#opts.log?.('input-too-big-for-worker', { worker: this.key, tasks: unsendable.length, hint: 'this worker cannot fetch inputs as blobs (an older version)' });
      this.#scheduler.abandon(this, unsendable);
    }
    // Packed by encoded size: no Assign exceeds the frame cap, however many tasks are due.
    for (const frame of assignFrames(sendable, max)) {
      // The channel closed between dispatch and commit: hand the tasks straight back rather than
      // leave them leased to a worker that will never hear of them.
      if (!this.channel.send(frame)) this.#scheduler.abandon(this, frame.assign!.tasks!.map((t) => Number(t.taskId)));
    }
  }

  sendCancel(taskIds: number[], reason: string): void {
    this.channel.send({ cancel: { taskIds, reason } });
  }

  /**
   * The volunteer leaves (a Goodbye frame, or the page's Goodbye beacon when its tab closes):
   * every task this session holds goes back for immediate re-issue, then the session closes.
   * Frames arrive in order, so every result sent before a Goodbye frame is in already: what was
   * sent through this session, is still leased and was not returned was never received (an
   * Assign crossing the Goodbye on the wire) or is lost with a closing tab. It will not run:
   * re-issue it now, not after its lease. Another tab with the same volunteer id keeps its own.
   */
  leave(returnedTaskIds: readonly number[], reason: string): void {
    if (this.#left) return;
    this.#left = true;
    const returned = new Set(returnedTaskIds);
    const unreceived = this.#scheduler.leases.ofHolder(this).filter((id) => !returned.has(id));
    this.#scheduler.abandon(this, [...returned, ...unreceived]);
    this.#opts.log?.('worker-goodbye', { worker: this.key, returned: returned.size, unreceived: unreceived.length, reason });
    this.channel.close();
  }

  #onFrame(frame: Frame): void {
    if (!this.#welcomed && frame.kind !== 'hello') throw ProtoErrors.PROTOCOL(`expected Hello, got ${frame.kind}`);
    switch (frame.kind) {
      case 'hello':
        return this.#onHello(frame.hello);
      case 'credit': {
        // Credit and tasks held together never exceed what Welcome promised: a worker that
        // keeps granting credit without answering gets nothing more.
        const room = Math.max(0, this.#maxCredit - this.#scheduler.leases.heldTotal(this));
        this.credit = Math.min(room, this.credit + frame.credit.tasks);
        this.#scheduler.dispatch(this);
        return;
      }
      case 'result': {
        const outcomes = frame.result.results.map((r) => ({
          taskId: r.taskId ?? 0,
          ...(r.errorCode ? { errorCode: r.errorCode } : { output: r.outputHash && r.outputHash.byteLength > 0 ? this.#uploaded(r, r.outputHash) : r.output ?? new Uint8Array(0) }),
          cpuMs: r.cpuMs ?? 0,
        }));
        this.tasksDone += outcomes.length;
        const ids = outcomes.map((o) => o.taskId);
        // The acknowledgement goes out only once the results are committed.
        this.#scheduler.results(this, outcomes, () => this.channel.send({ ack: { taskIds: ids } }));
        return;
      }
      case 'goodbye':
        this.leave(frame.goodbye.returnedTaskIds.map(Number), frame.goodbye.reason ?? '');
        return;
      case 'decline': {
        const { kind, reason, taskIds } = frame.decline;
        // A decline without a kind means "paused": hand back and take no more until new Credit.
        if (!kind) this.credit = 0;
        if (kind) {
          this.#declined.add(kind);
          this.#opts.onDecline?.(this.key, kind, reason);
        }
        this.#scheduler.abandon(this, taskIds);
        return;
      }
      case 'blobRequest': {
        const { taskId, hash, offset } = frame.blobRequest;
        const input = this.#scheduler.taskInput(this, Number(taskId));
        // Not (or no longer) this worker's task: an empty answer, and the worker hands it back.
        if (!input || offset > input.byteLength) this.channel.send({ blobChunk: { taskId, hash, offset, totalSize: 0 } });
        else for (const f of blobFrames(Number(taskId), hash, input, this.#opts.maxFrameBytes, offset)) this.channel.send(f);
        return;
      }
      case 'blobChunk': {
        const chunk = frame.blobChunk;
        const taskId = Number(chunk.taskId);
        let upload = this.#uploads.get(taskId);
        if (!upload) {
          if (chunk.offset !== 0) throw ProtoErrors.PROTOCOL('blob piece before the start of its blob');
          // One output at a time is in flight on a connection (resultFrames sends them in turn).
          if (this.#uploads.size >= 2) throw ProtoErrors.PROTOCOL('too many outputs uploading at once');
          upload = new BlobAssembly(chunk.hash, chunk.totalSize, this.#opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
          this.#uploads.set(taskId, upload);
        }
        upload.add(chunk);
        return;
      }
      case 'codeRequest': {
        const bundle = this.#opts.codeBundle?.(frame.codeRequest.codeHash);
        if (!bundle) throw ProtoErrors.PROTOCOL('unknown code bundle requested');
        this.channel.send({ codeBundle: bundle });
        return;
      }
      case 'heartbeat':
        this.channel.send({ heartbeat: { timeMs: Date.now() } });
        return;
      case 'error':
        this.#opts.log?.('worker-error', { worker: this.key, code: frame.error.code, message: frame.error.message });
        this.channel.close();
        return;
      default:
        throw ProtoErrors.PROTOCOL(`a worker may not send ${frame.kind}`);
    }
  }

  /** The output of a result sent as a blob: all of it arrived and its hash checks, or the peer is dropped. */
  #uploaded(r: swarmgrid.ITaskResult, hash: Uint8Array): Uint8Array {
    const taskId = Number(r.taskId);
    const upload = this.#uploads.get(taskId);
    this.#uploads.delete(taskId);
    if (!upload || !upload.complete || upload.bytes.byteLength !== r.outputSize) throw ProtoErrors.PROTOCOL(`result of task ${taskId} names an output that did not arrive`);
    const actual = sha256(upload.bytes);
    if (Buffer.compare(actual, hash) !== 0) throw ProtoErrors.PROTOCOL(`output of task ${taskId} does not match its SHA-256`);
    return upload.bytes;
  }

  #onHello(hello: swarmgrid.Hello): void {
    if (this.#welcomed) throw ProtoErrors.PROTOCOL('Hello sent twice');
    if (hello.protocolVersion !== PROTOCOL_VERSION) throw ProtoErrors.PROTOCOL_VERSION(hello.protocolVersion, PROTOCOL_VERSION);
    clearTimeout(this.#helloTimer);
    if (this.#opts.admit && !this.#opts.admit(hello.joinToken)) throw CoordinatorErrors.UNAUTHORIZED();
    if (!(hello.threads >= 1 && hello.threads <= MAX_HELLO_THREADS)) throw ProtoErrors.PROTOCOL(`Hello.threads must be 1 to ${MAX_HELLO_THREADS}, got ${hello.threads}`);
    if (hello.kinds.length > MAX_HELLO_KINDS) throw ProtoErrors.PROTOCOL(`Hello names more than ${MAX_HELLO_KINDS} kinds`);
    if (this.runtime === 'node' && this.#opts.claims) {
      const instance = Buffer.from(hello.instance ?? []).toString('hex');
      const verdict = this.#opts.claims.claims.hello(this.key, instance);
      if (!verdict.admit) {
        this.#opts.log?.('duplicate-identity', { worker: this.key, instance, address: this.address, action: 'refused' });
        throw ProtoErrors.DUPLICATE_IDENTITY(this.key);
      }
      this.instance = instance;
      if (verdict.evict) {
        this.#opts.log?.('duplicate-identity', { worker: this.key, instance: verdict.evict, action: 'refused from now on', incumbent: instance });
        this.#opts.claims.evict(this.key, verdict.evict);
      }
    }
    const claimed = hello.runtime === Runtime.RUNTIME_BROWSER ? 'browser' : 'node';
    if (claimed !== this.runtime) this.#opts.log?.('runtime-claim-ignored', { worker: this.key, claimed, runtime: this.runtime, address: this.address });
    const networks = this.#scheduler.networks;
    this.threads = hello.threads;
    this.#maxCredit = this.#opts.maxCredit ?? Math.min(MAX_CREDIT, CREDIT_PER_THREAD * this.threads);
    this.#trusts = hello.trustsCoordinator;
    this.#blobs = hello.blobs;
    for (const k of hello.kinds) this.#kinds.add(k);
    for (const k of this.#opts.declinedKinds?.(this.key, this.#trusts) ?? []) this.#declined.add(k);
    this.#welcomed = true;
    this.channel.send({
      welcome: {
        coordinatorKey: this.#opts.coordinatorKey,
        maxFrameBytes: this.#opts.maxFrameBytes,
        heartbeatMs: HEARTBEAT_MS,
        maxCredit: this.#maxCredit,
        coordinatorVersion: this.#opts.version,
        maxPayloadBytes: this.#opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      },
    });
    this.#scheduler.attach(this);
    this.#opts.log?.('worker-joined', { worker: this.key, runtime: this.runtime, threads: this.threads, address: this.address, network: this.network });
    if (networks.options.independence === 'network' && networks.sharedOnce(this.network)) {
      // The one surprise of the default on a grid of one's own machines: say it once per network.
      this.#opts.log?.('same-network', {
        network: this.network,
        hint: 'volunteers of one network count as one vote: no quorum forms inside it. If every volunteer is yours (one machine, one lab), run the coordinator with --local-grid',
      });
    }
  }

  #onClose(): void {
    clearTimeout(this.#helloTimer);
    if (this.#joined) this.#scheduler.networks.leave(this.network);
    if (!this.#welcomed) return;
    if (this.instance) this.#opts.claims?.claims.closed(this.key, this.instance);
    // Leases stay: a worker that drops without Goodbye may reconnect and deliver.
    this.#scheduler.detach(this);
    this.#opts.log?.('worker-left', { worker: this.key, tasksDone: this.tasksDone });
  }
}
