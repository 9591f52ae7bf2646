/**
 * The node worker's link to one coordinator: the volunteer protocol core (proto/volunteer/core.ts)
 * over Hyperswarm connections, which the agent dials and redials (agent.ts, reconnect.ts) and
 * attaches here. What is the worker's own: trust and join tokens in Hello, refusing custom code
 * from untrusted coordinators and WASM under --no-wasm, node:crypto, logging, and telling the
 * agent when the connection drops or the identity is in use.
 */
import { createHash } from 'node:crypto';
import { Runtime, type swarmgrid } from '../proto/codec.js';
import { globalClock } from '../proto/volunteer/clock.js';
import { VolunteerCore, type VolunteerHost } from '../proto/volunteer/core.js';
import type { CodeSource } from './code-cache.js';
import { WorkerErrors } from './errors.js';

export type { HeldTask } from '../proto/volunteer/core.js';

export interface LinkHost extends VolunteerHost {
  trusts(coordinatorKey: string): boolean;
  /** Whether WASM kinds (sandboxed) run here: on unless the volunteer said --no-wasm. */
  readonly runsWasm?: boolean;
  /** The join token for this coordinator, or '' (private coordinators ask for one). */
  joinToken(coordinatorKey: string): string;
  /** Tasks this link should hold (queued + running): its share of the prefetch. */
  prefetchFor(link: CoordinatorLink): number;
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

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Node timers; heartbeats and request timeouts do not keep the process alive. */
const nodeClock = globalClock(setImmediate, { unref: true });

export class CoordinatorLink extends VolunteerCore implements CodeSource {
  readonly key: string;
  /** Tasks this link has been served (fair-share.ts). */
  served = 0;
  declare protected readonly host: LinkHost;

  constructor(key: string, host: LinkHost) {
    // Results leave on the next turn: the channel coalesces the frames of one tick (proto/channel.ts).
    super(host, { runtime: Runtime.RUNTIME_NODE, clock: nodeClock, digest: sha256, resultDelayMs: 0, pausedReason: 'worker paused' });
    this.key = key;
  }

  protected prefetch(): number {
    return this.host.prefetchFor(this);
  }

  protected override helloFields(): Partial<swarmgrid.IHello> {
    return {
      trustsCoordinator: this.host.trusts(this.key),
      joinToken: this.host.joinToken(this.key),
      ...(this.host.instance && { instance: this.host.instance }),
    };
  }

  protected override refusal(task: swarmgrid.ITask): string | undefined {
    if (!task.codeHash || task.codeHash.length === 0) return undefined;
    const kind = `${task.kind ?? ''}@${task.kindVersion ?? ''}`;
    let err;
    if (task.wasm && this.host.runsWasm === false) err = WorkerErrors.WASM_REFUSED(kind);
    // Custom code from a coordinator the volunteer did not trust: never fetched, never run.
    // (A WASM kind is fetched: the agent runs it only if the bundle is one, agent.ts.)
    else if (!task.wasm && !this.host.trusts(this.key)) err = WorkerErrors.UNTRUSTED_CODE(kind, this.key);
    return err && `${err.code}: ${err.message}`;
  }

  protected blobUnavailable(taskId: number): Error {
    return WorkerErrors.BLOB_UNAVAILABLE(taskId);
  }

  protected override onWelcome(): void {
    this.host.log('coordinator-joined', { coordinator: this.key, resent: this.unacked.size });
    this.host.linkWelcomed?.(this);
  }

  protected override onLost(err?: Error): void {
    this.host.log('coordinator-lost', { coordinator: this.key, ...(err && { error: err.message }) });
    this.host.linkLost(this);
  }

  protected override onCoordinatorError(error: swarmgrid.Error, welcomed: boolean): void {
    // Refused before Welcome for want of a token: the coordinator is private.
    const hint = error.code === 'GRID_ERR_UNAUTHORIZED' && !welcomed
      ? { hint: `this coordinator is private: ask its operator for a join token and start the worker with --join ${this.key}=TOKEN` }
      : {};
    this.host.log('coordinator-error', { coordinator: this.key, code: error.code, message: error.message, ...hint });
    if (error.code === 'GRID_ERR_DUPLICATE_IDENTITY') this.host.identityInUse?.(this, error.message);
  }

  protected override log(event: string, fields: Record<string, unknown>): void {
    this.host.log(event, { coordinator: this.key, ...fields });
  }

  override close(): void {
    super.close('worker closing');
  }
}
