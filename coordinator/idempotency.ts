/**
 * Idempotent submissions: a POST /v1/batches with an `Idempotency-Key` is stored with its batch
 * (table `submissions`, committed with the batch row), so that a retry of the same logical
 * submission, after a timeout, a dropped connection or a coordinator restart, gets the batch the
 * first try made instead of a second one. Keys are per submitting token. A key names one body:
 * its SHA-256 is kept once the body is all in, and a retry with another body is refused.
 */
import { createHash, type Hash } from 'node:crypto';
import { CoordinatorErrors } from './errors.js';
import type { GridStore } from './store/index.js';

/** Longest key accepted; keys are opaque (the CLI sends a UUID). */
export const MAX_IDEMPOTENCY_KEY = 200;

export interface IdempotentRequest {
  key: string;
  owner: string;
}

/** What a key found: a batch to answer with again, or nothing (a new submission). */
export type KeyLookup = { state: 'new' } | { state: 'replay'; batchId: string; bodyHash: string | null };

/** Checks the header value; undefined when the request has none. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (!key || key.length > MAX_IDEMPOTENCY_KEY || !/^[\x21-\x7e]+$/.test(key)) {
    throw CoordinatorErrors.BAD_REQUEST(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces`);
  }
  return key;
}

export class IdempotencyKeys {
  #store: GridStore;
  /** Keys reserved by a submission that has not inserted its batch row yet ("owner\0key"). */
  #reserving = new Set<string>();

  constructor(store: GridStore) {
    this.#store = store;
  }

  /**
   * Looks the key up and, when it is new, reserves it for `batchId` before the caller awaits
   * anything (JS runs this synchronously: two tries racing cannot both get 'new'). A key whose
   * batch was rejected or discarded is free again. Throws GRID_ERR_SUBMISSION_IN_PROGRESS while
   * the first try is still streaming in.
   */
  reserve(req: IdempotentRequest, batchId: string): KeyLookup {
    const tag = `${req.owner}\0${req.key}`;
    if (this.#reserving.has(tag)) throw CoordinatorErrors.SUBMISSION_IN_PROGRESS();
    const row = this.#store.findSubmission(req.owner, req.key);
    if (row && row.state === 'loading') throw CoordinatorErrors.SUBMISSION_IN_PROGRESS();
    if (row && row.state !== null) return { state: 'replay', batchId: row.batch_id, bodyHash: row.body_hash };
    if (row) this.#store.deleteSubmission(row.batch_id);
    this.#reserving.add(tag);
    this.#store.insertSubmission(batchId, req.owner, req.key);
    return { state: 'new' };
  }

  /** The batch row exists now (state 'loading'): the key is guarded by it. */
  settled(req: IdempotentRequest): void {
    this.#reserving.delete(`${req.owner}\0${req.key}`);
  }

  /** The whole body was read: its hash is what later tries are compared with. */
  setBodyHash(batchId: string, bodyHash: string): void {
    this.#store.setSubmissionBodyHash(batchId, bodyHash);
  }

  /** The submission failed before its batch was stored: the key is free again. */
  release(req: IdempotentRequest, batchId: string): void {
    this.settled(req);
    this.#store.deleteSubmission(batchId);
  }
}

/** A running SHA-256 over a body's bytes, as they stream through. */
export class BodyHash {
  #hash: Hash = createHash('sha256');
  #digest?: string;

  update(bytes: Uint8Array | string): void {
    this.#hash.update(bytes);
  }

  /** The hex digest of everything so far; the hash takes no more after. */
  digest(): string {
    this.#digest ??= this.#hash.digest('hex');
    return this.#digest;
  }
}
