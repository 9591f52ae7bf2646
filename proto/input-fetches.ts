/**
 * The volunteer's side of inputs sent as blobs (Task.input_hash, proto/payloads.ts), one owner
 * for both volunteers (worker/link.ts over Hyperswarm, browser-worker/link.ts over WebSocket):
 * each fetch asks for the blob, puts its pieces together, checks the SHA-256, and survives
 * reconnects (`resendAll` after Welcome asks again from the start). Isomorphic: the link gives
 * the digest (node:crypto in Node, WebCrypto in browsers) and the means to send and to drop.
 */
import type { swarmgrid } from './codec.js';
import { BlobAssembly, DEFAULT_MAX_PAYLOAD_BYTES, sameBytes } from './payloads.js';

export interface InputFetchesOptions {
  /** Sends a BlobRequest to the coordinator (called only while connected). */
  request(req: swarmgrid.IBlobRequest): void;
  /** SHA-256 of the assembled input. */
  digest(bytes: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** The coordinator no longer has the input (it answered with an empty blob). */
  unavailable(taskId: number): Error;
  /** The assembled input does not match its hash: a coordinator fault, the peer is dropped. */
  mismatch(taskId: number): void;
}

interface Fetch {
  hash: Uint8Array;
  size: number;
  assembly: BlobAssembly | null;
  resolve: (input: Uint8Array) => void;
  reject: (err: Error) => void;
}

export class InputFetches {
  #opts: InputFetchesOptions;
  #fetches = new Map<number, Fetch>();
  /** Largest blob accepted, from the coordinator's Welcome. */
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;

  constructor(options: InputFetchesOptions) {
    this.#opts = options;
  }

  /**
   * The input of task `taskId`: `size` bytes whose SHA-256 is `hash`. Asked for at once when
   * `connected`, else at the next `resendAll`. Rejects when `signal` aborts (the task was
   * cancelled or handed back) or the coordinator no longer has it.
   */
  fetch(taskId: number, hash: Uint8Array, size: number, signal: AbortSignal, connected: boolean): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const done = () => {
        this.#fetches.delete(taskId);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort);
      const fetch: Fetch = {
        hash, size, assembly: null,
        resolve: (input) => { done(); resolve(input); },
        reject: (err) => { done(); reject(err); },
      };
      this.#fetches.set(taskId, fetch);
      if (connected) this.#request(taskId, fetch);
    });
  }

  /** After a (re)connect: every fetch still open starts over. */
  resendAll(): void {
    for (const [taskId, fetch] of this.#fetches) this.#request(taskId, fetch);
  }

  /** A BlobChunk arrived for a task input. */
  onChunk(chunk: swarmgrid.BlobChunk): void {
    const taskId = Number(chunk.taskId);
    const fetch = this.#fetches.get(taskId);
    if (!fetch) return; // cancelled meanwhile
    if (chunk.totalSize === 0 && fetch.size > 0) {
      fetch.reject(this.#opts.unavailable(taskId));
      return;
    }
    fetch.assembly ??= new BlobAssembly(fetch.hash, fetch.size, this.maxPayloadBytes);
    fetch.assembly.add(chunk);
    if (!fetch.assembly.complete) return;
    const input = fetch.assembly.bytes;
    void Promise.resolve(this.#opts.digest(input)).then((hash) => {
      if (sameBytes(hash, fetch.hash)) fetch.resolve(input);
      else this.#opts.mismatch(taskId);
    });
  }

  #request(taskId: number, fetch: Fetch): void {
    fetch.assembly = null;
    this.#opts.request({ taskId, hash: fetch.hash, offset: 0 });
  }
}
