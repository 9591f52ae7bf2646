/**
 * The worker's side of one coordinator. It outlives connections: tasks keep running while the
 * coordinator is away, and results not yet acknowledged are sent again after reconnecting, so
 * nothing a worker computed is lost to a dropped connection or a restarted coordinator.
 */
import type { Channel } from '../proto/channel.js';
import { type Frame, PROTOCOL_VERSION, Runtime, type swarmgrid } from '../proto/codec.js';
import { ProtoErrors } from '../proto/errors.js';

export interface HeldTask {
  task: swarmgrid.ITask;
  state: 'queued' | 'running';
  controller: AbortController;
}

export interface LinkHost {
  readonly kinds: string[];
  readonly threads: number;
  readonly version: string;
  trusts(coordinatorKey: string): boolean;
  /** Tasks this link should hold (queued + running): its share of the prefetch. */
  prefetchFor(link: CoordinatorLink): number;
  /** New tasks arrived: start what fits. */
  pump(): void;
  log(event: string, fields: Record<string, unknown>): void;
}

export class CoordinatorLink {
  readonly key: string;
  readonly held = new Map<number, HeldTask>();
  readonly unacked = new Map<number, swarmgrid.ITaskResult>();
  /** Tasks this link has been served (for weighted fair sharing). */
  served = 0;
  tasksDone = 0;
  #host: LinkHost;
  #channel: Channel | null = null;
  #welcomed = false;
  #outbox: swarmgrid.ITaskResult[] = [];
  #flushScheduled = false;
  #credited = 0;

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
    this.#channel?.close();
    this.#channel = channel;
    this.#welcomed = false;
    channel.onFrame((frame) => this.#onFrame(frame));
    channel.onClose((err) => {
      if (this.#channel !== channel) return;
      this.#channel = null;
      this.#welcomed = false;
      this.#host.log('coordinator-lost', { coordinator: this.key, ...(err && { error: err.message }) });
    });
    channel.send({
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        runtime: Runtime.RUNTIME_NODE,
        threads: this.#host.threads,
        kinds: this.#host.kinds,
        clientVersion: this.#host.version,
        trustsCoordinator: this.#host.trusts(this.key),
      },
    });
  }

  #onFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'welcome':
        this.#welcomed = true;
        this.#credited = 0;
        this.#host.log('coordinator-joined', { coordinator: this.key, resent: this.unacked.size });
        if (this.unacked.size > 0) this.#channel?.send({ result: { results: [...this.unacked.values()] } });
        this.topUpCredit();
        return;
      case 'assign':
        for (const task of frame.assign.tasks) {
          const id = Number(task.taskId);
          if (this.held.has(id)) continue;
          this.held.set(id, { task, state: 'queued', controller: new AbortController() });
          this.#credited = Math.max(0, this.#credited - 1);
        }
        this.#host.pump();
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
      case 'heartbeat':
        return;
      case 'error':
        this.#host.log('coordinator-error', { coordinator: this.key, code: frame.error.code, message: frame.error.message });
        return;
      default:
        if (!this.#welcomed) throw ProtoErrors.PROTOCOL(`expected Welcome, got ${frame.kind}`);
        throw ProtoErrors.PROTOCOL(`a coordinator may not send ${frame.kind}`);
    }
  }

  /** Grants credit so that held + credited reaches this link's prefetch. */
  topUpCredit(): void {
    if (!this.connected) return;
    const want = this.#host.prefetchFor(this) - this.held.size - this.#credited;
    if (want <= 0) return;
    this.#credited += want;
    this.#channel!.send({ credit: { tasks: want } });
  }

  /** A held task finished (or failed): queue its result for the next coalesced Result frame. */
  complete(taskId: number, result: swarmgrid.ITaskResult): void {
    if (!this.held.delete(taskId)) return; // cancelled meanwhile: the coordinator does not want it
    this.tasksDone++;
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
    this.#channel!.send({ result: { results } });
    this.topUpCredit();
  }

  /** Graceful leave: hand back everything held so the coordinator re-issues it at once. */
  goodbye(reason: string): number[] {
    const returned = [...this.held.keys()];
    for (const held of this.held.values()) held.controller.abort(new Error(reason));
    this.held.clear();
    if (this.connected) this.#channel!.send({ goodbye: { returnedTaskIds: returned, reason } });
    return returned;
  }

  /** Hands queued (not running) tasks back, e.g. when the owner gets busy. */
  returnQueued(reason: string): number[] {
    const ids: number[] = [];
    for (const [id, held] of this.held) {
      if (held.state !== 'queued') continue;
      ids.push(id);
      this.held.delete(id);
    }
    if (ids.length > 0 && this.connected) this.#channel!.send({ decline: { taskIds: ids, reason, kind: '' } });
    return ids;
  }

  close(): void {
    this.#channel?.close();
    this.#channel = null;
    this.#welcomed = false;
  }
}
