/**
 * The volunteer core's results on their way out (core.ts): kept until acknowledged, coalesced
 * into Result frames, sized up against the coordinator's limits, resent after a reconnect.
 */
import type { FrameInit, swarmgrid } from '../codec.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../codec.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, fitsInline, resultFrames } from '../payloads.js';
import type { VolunteerClock } from './clock.js';

export interface ResultOutboxOptions {
  clock: VolunteerClock;
  /** SHA-256, synchronous or not. */
  digest(bytes: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** How long a result waits for others to share its frame, ms; 0: the clock's next turn. */
  resultDelayMs: number;
  /** Whether frames can go out now (welcomed on an open channel). */
  connected(): boolean;
  /** Sends a frame (called only while connected). */
  send(frame: FrameInit): void;
  /** Results went out: the caller may grant credit for the room they left. */
  sent(): void;
  log(event: string, fields: Record<string, unknown>): void;
}

export class ResultOutbox {
  /** Results sent (or to be sent) and not acknowledged yet, by task id. */
  readonly unacked = new Map<number, swarmgrid.ITaskResult>();
  /** From Welcome: what the coordinator accepts in one frame, and in one task's output. */
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
  #opts: ResultOutboxOptions;
  #outbox: swarmgrid.ITaskResult[] = [];
  #flushScheduled = false;
  #flushTimer: unknown;
  /** Outputs too big for a frame whose SHA-256 is being computed (asynchronous digests). */
  #hashing = new Set<swarmgrid.ITaskResult>();

  constructor(options: ResultOutboxOptions) {
    this.#opts = options;
  }

  /** A task's result: kept until acknowledged, sent with the next coalesced Result frame. */
  add(taskId: number, result: swarmgrid.ITaskResult): void {
    this.unacked.set(taskId, result);
    if (this.#sizeUp(result)) this.#queue(result);
  }

  /** The coordinator acknowledged these (committed): forgotten. */
  ack(taskIds: number[]): void {
    for (const id of taskIds) this.unacked.delete(id);
  }

  /** After a Welcome: every result not acknowledged goes out again, in frames packed by size. */
  resendAll(): void {
    if (this.unacked.size > 0) this.#send([...this.unacked.values()]);
  }

  /** Sends what waits for its frame now (before a Goodbye). */
  flushNow(): void {
    if (this.#flushScheduled) this.#flush();
  }

  #queue(result: swarmgrid.ITaskResult): void {
    if (!this.unacked.has(Number(result.taskId))) return;
    this.#outbox.push(result);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    const { clock, resultDelayMs } = this.#opts;
    if (resultDelayMs > 0) this.#flushTimer = clock.setTimeout(() => this.#flush(), resultDelayMs);
    else clock.nextTurn(() => this.#flush());
  }

  #flush(): void {
    this.#opts.clock.clearTimeout(this.#flushTimer);
    this.#flushScheduled = false;
    const results = this.#outbox;
    this.#outbox = [];
    // Disconnected: the results stay in `unacked` and go out again after Welcome.
    if (!this.#opts.connected() || results.length === 0) return;
    this.#send(results);
    this.#opts.sent();
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
    if (size > this.maxPayloadBytes) {
      const message = `output of ${size} bytes exceeds the ${this.maxPayloadBytes} bytes this coordinator accepts per task`;
      this.#opts.log('task-failed', { task: Number(result.taskId), error: 'output_too_large', message });
      Object.assign(result, { output: undefined, errorCode: 'output_too_large', errorMessage: message });
      return true;
    }
    if (fitsInline(size, this.maxFrameBytes)) return true;
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

  #send(results: swarmgrid.ITaskResult[]): void {
    const ready = results.filter((r) => this.#sizeUp(r));
    for (const frame of resultFrames(ready, this.maxFrameBytes)) this.#opts.send(frame);
  }
}
