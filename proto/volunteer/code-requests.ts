/**
 * CodeRequest → CodeBundle for the volunteer core: one request per hash at a time (tasks of one
 * kind share it), answered or failed within a timeout, all failed when the connection drops.
 * Bundles are handed over unchecked: the runtime checks hash and signature (worker/code-cache.ts,
 * browser-worker/code-bundles.ts). Unsolicited bundles are ignored.
 */
import { toHex } from '../channel.js';
import type { swarmgrid } from '../codec.js';
import type { VolunteerClock } from './clock.js';

/** How long a coordinator gets to answer a CodeRequest, ms. */
export const CODE_REQUEST_TIMEOUT_MS = 30_000;

interface CodeWaiter {
  resolve: (bundle: swarmgrid.ICodeBundle) => void;
  reject: (err: Error) => void;
  promise: Promise<swarmgrid.ICodeBundle>;
}

export class CodeRequests {
  #waiters = new Map<string, CodeWaiter>();
  #clock: VolunteerClock;

  constructor(clock: VolunteerClock) {
    this.#clock = clock;
  }

  /** The bundle of `hash`; `send` puts the CodeRequest on the wire when none is pending yet. */
  request(hash: Uint8Array, send: () => void): Promise<swarmgrid.ICodeBundle> {
    const hex = toHex(hash);
    const pending = this.#waiters.get(hex);
    if (pending) return pending.promise;
    let resolve!: (bundle: swarmgrid.ICodeBundle) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<swarmgrid.ICodeBundle>((res, rej) => { resolve = res; reject = rej; });
    const timer = this.#clock.setTimeout(() => {
      this.#waiters.delete(hex);
      reject(new Error(`no answer within ${CODE_REQUEST_TIMEOUT_MS} ms`));
    }, CODE_REQUEST_TIMEOUT_MS);
    this.#waiters.set(hex, {
      promise,
      resolve: (b) => { this.#clock.clearTimeout(timer); resolve(b); },
      reject: (e) => { this.#clock.clearTimeout(timer); reject(e); },
    });
    send();
    return promise;
  }

  /** A CodeBundle arrived. */
  answer(bundle: swarmgrid.ICodeBundle): void {
    const hex = toHex(bundle.codeHash ?? new Uint8Array(0));
    const waiter = this.#waiters.get(hex);
    this.#waiters.delete(hex);
    waiter?.resolve(bundle);
  }

  /** The connection dropped or the link closes: every pending request fails with `reason`. */
  failAll(reason: string): void {
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const w of waiters) w.reject(new Error(reason));
  }
}
