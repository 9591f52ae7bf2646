/**
 * Batch lifecycle: submission (streamed into the store in chunks while the scheduler already
 * dispatches), cancellation, recovery after a restart, and finalisation (reducer → artifact).
 * Each live batch has a ledger (batch-ledger.ts), made here and handed to the scheduler; this
 * manager moves it through its states and closes it when it says `decided`.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Artifact, Json } from '../jobs/types.js';
import { reduceBatch } from './assimilator.js';
import { type BatchPreview, previewBatch } from './batch-preview.js';
import type { InputChunk, InputSource } from './batch-inputs.js';
import { BatchCounters } from './batch-counters.js';
import { BatchLedger, type LedgerJob, STALLED } from './batch-ledger.js';
import { CoordinatorErrors } from './errors.js';
import type { CatalogEntry, KindCatalog } from './kind-catalog.js';
import { storedPolicy } from './policy.js';
import { checkedInput, checkSubmission, INGEST_CHUNK, INGEST_CHUNK_BYTES } from './submission-check.js';
import type { Scheduler } from './scheduler.js';
import { isFinalBatchState } from './states.js';
import { isStorageFault } from './storage-errors.js';
import type { BatchRow, GridStore } from './store/index.js';
import { agreeFor } from './validator.js';
import { IdempotencyKeys, type IdempotentRequest } from './idempotency.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../proto/payloads.js';

export interface BatchSubmission {
  kind: string;
  /** Explicit work-unit inputs: an array, or any sync or async iterable. */
  inputs?: InputSource;
  /** Explicit inputs already in chunks (what an NDJSON body streams in as). */
  inputChunks?: AsyncIterable<InputChunk>;
  /**
   * Params for the kind's generator when no inputs are given; with inputs they only reach the
   * reducer (e.g. the image size a Mandelbrot reducer assembles its tiles into).
   */
  params?: Json;
  policy?: unknown;
  /** The submitting token's id (auth.ts), which may cancel the batch; omitted = none. */
  owner?: string;
}

/** An `Idempotency-Key` submission: the key, and the body's hash once the body is all read. */
export interface IdempotentSubmission extends IdempotentRequest {
  bodyHash: () => string;
}

export interface Submitted {
  id: string;
  /** True when the key named a batch an earlier try stored: nothing new was created. */
  replayed: boolean;
  /** The earlier try's body hash (replays only), for the caller to compare with this body's. */
  bodyHash?: string | null;
}

export type BatchListener = (batch: BatchRow) => void;


export class BatchManager {
  #store: GridStore;
  #scheduler: Scheduler;
  #catalog: KindCatalog;
  readonly stats = { ingested: 0 };
  #finalizing = new Set<string>();
  #listeners: BatchListener[] = [];
  /** Ledgers of live batches (stalled ones included), by id; a batch's leaves once it is final. */
  #ledgers = new Map<string, BatchLedger>();
  #counters: BatchCounters;
  #log: (event: string, fields: Record<string, unknown>) => void;

  #maxPayloadBytes: number;

  /** `limits.maxPayloadBytes`: largest encoded input of one work unit (proto/payloads.ts). @defaultValue 16 MiB */
  constructor(store: GridStore, scheduler: Scheduler, catalog: KindCatalog, log: (event: string, fields: Record<string, unknown>) => void = () => {},
    limits: { maxPayloadBytes?: number } = {}) {
    this.#maxPayloadBytes = limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#store = store;
    this.#scheduler = scheduler;
    this.#catalog = catalog;
    this.#log = log;
    this.#keys = new IdempotencyKeys(store);
    this.#counters = new BatchCounters(store);
  }

  /** The ledger of a live batch (loading, running, stalled or finishing), if it is one. */
  ledger(id: string): BatchLedger | undefined {
    return this.#ledgers.get(id);
  }

  /**
   * create(), made idempotent by a key: the first try with a key creates the batch; a later one
   * (the batch stored, whatever its state since) gets that batch back with `replayed`, and the
   * first try's body hash for the caller to compare. A try while the first is still streaming
   * in: GRID_ERR_SUBMISSION_IN_PROGRESS. A try that fails frees the key.
   */
  async submit(sub: BatchSubmission, idem?: IdempotentSubmission): Promise<Submitted> {
    if (!idem) return { id: await this.create(sub), replayed: false };
    const id = randomBytes(8).toString('hex');
    const found = this.#keys.reserve(idem, id);
    if (found.state === 'replay') return { id: found.batchId, replayed: true, bodyHash: found.bodyHash };
    try {
      await this.#create(sub, id, () => this.#keys.settled(idem));
    } catch (err) {
      if (!this.#store.closed) this.#keys.release(idem, id);
      throw err;
    }
    this.#keys.setBodyHash(id, idem.bodyHash());
    return { id, replayed: false };
  }

  #closed = false;
  #keys: IdempotencyKeys;

  /** The coordinator is stopping: uploads still streaming in stop at their next chunk (see create()). */
  close(): void {
    this.#closed = true;
  }

  /** A dry run: `sub` checked as create() checks it, and what it would run; nothing is stored. */
  preview(sub: BatchSubmission): Promise<BatchPreview> {
    return previewBatch(this.#catalog, sub, this.#maxPayloadBytes);
  }

  /** Called with the final row of every batch that completes, fails or is cancelled. */
  onFinished(listener: BatchListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Validates and stores a batch; resolves with its id once every work unit is committed. Inputs
   * are stored a chunk at a time, and the scheduler dispatches each chunk while the next streams
   * in. A batch that fails validation part-way leaves nothing behind; one cancelled while it
   * streams in stays cancelled (and this rejects with GRID_ERR_BATCH_FINISHED).
   */
  create(sub: BatchSubmission): Promise<string> {
    return this.#create(sub, randomBytes(8).toString('hex'));
  }

  async #create(sub: BatchSubmission, id: string, inserted?: () => void): Promise<string> {
    // A disk that refuses writes: refused before anything is taken in (507 GRID_ERR_STORAGE_FULL).
    if (this.#store.storageFault) throw this.#store.storageFault;
    // resolve, not get: a custom kind added with `swarmgrid kind add` since start is picked up here.
    const { entry, policy, chunks } = await checkSubmission(this.#catalog, sub);
    const { kind } = entry;
    this.#store.insertBatch({
      id, kind: kind.name, kind_version: kind.version, code_hash: entry.codeHash,
      params: sub.params === undefined ? null : JSON.stringify(sub.params),
      policy: JSON.stringify(policy), state: 'loading', priority: policy.priority, owner: sub.owner ?? null,
    });
    inserted?.();
    // The entry its inputs were checked against, not a fresh lookup: a kind replaced meanwhile
    // (kind add) must not run inputs checked for the version before.
    const runtime = this.#ledger(id, jobOf(entry), policy, Date.now(), 'loading');
    this.#scheduler.addBatch(runtime);
    let seq = 0;
    try {
      let encoded: Uint8Array[] = [];
      let encodedBytes = 0;
      const store = async () => {
        // Cancelled while streaming in (DELETE during the upload): stop taking inputs.
        if (runtime.state === 'cancelled') throw CoordinatorErrors.BATCH_FINISHED(id, 'cancelled');
        if (this.#closed) throw CoordinatorErrors.STOPPING();
        this.#store.insertWorkUnits(id, seq - encoded.length, encoded);
        this.stats.ingested += encoded.length;
        encoded = [];
        encodedBytes = 0;
        this.#scheduler.unitsAdded(id);
        await yieldToLoop(); // let the scheduler dispatch what is already in
      };
      for await (const chunk of chunks) {
        for (let i = 0; i < chunk.values.length; i++) {
          // What no worker could be sent is refused here, before anything is dispatched.
          const { bytes } = checkedInput(kind, chunk, i, seq, this.#maxPayloadBytes);
          encoded.push(bytes);
          encodedBytes += bytes.byteLength;
          seq++;
          // Stored by bytes too: 5,000 NDJSON lines of 1 MiB were held, 5 GB, before the first write.
          if (encoded.length >= INGEST_CHUNK || encodedBytes >= INGEST_CHUNK_BYTES) await store();
        }
      }
      if (encoded.length > 0) await store();
      if (runtime.state === 'cancelled') throw CoordinatorErrors.BATCH_FINISHED(id, 'cancelled');
      if (seq === 0) throw CoordinatorErrors.EMPTY_BATCH();
    } catch (err) {
      // Stopping: the store is closing under us. The batch stays 'loading' and recover() drops it.
      if (this.#closed) throw CoordinatorErrors.STOPPING();
      if (runtime.state === 'cancelled') {
        // cancel() already withdrew the tasks and marked the batch; units stored since join it.
        this.#store.cancelPendingWorkUnits(id);
        throw CoordinatorErrors.BATCH_FINISHED(id, 'cancelled');
      }
      // Nothing of a rejected batch stays: withdraw what was dispatched, delete what was stored.
      this.#scheduler.dropBatch(id, 'batch rejected');
      this.#ledgers.delete(id);
      this.#store.flush();
      try {
        this.#store.deleteBatch(id);
      } catch (deleteErr) {
        // The disk filled up mid-upload: delete with the writes held back, once it has room.
        if (!isStorageFault(deleteErr)) throw deleteErr;
        this.#store.defer(() => this.#store.deleteBatch(id));
      }
      throw err;
    }
    this.#store.flush();
    // Emits `decided` at once when every unit already is (#checkDecided).
    runtime.start(seq);
    this.#scheduler.unitsAdded(id);
    this.#log('batch-created', { batch: id, kind: kind.name, workUnits: seq });
    return id;
  }

  /** A job kind from the catalogue, as a ledger holds it; null when it is not (or no longer) there. */
  #job(kindName: string): LedgerJob | null {
    const entry = this.#catalog.get(kindName);
    return entry ? jobOf(entry) : null;
  }

  /** A new ledger, subscribed to. */
  #ledger(id: string, job: LedgerJob | null, policy: BatchLedger['policy'], createdAt: number, state: 'loading' | 'running',
    counts?: { total: number; validated: number; failed: number }): BatchLedger {
    const ledger = new BatchLedger(this.#store, this.#counters, { id, job, policy, createdAt, state, ...(counts && { counts }) });
    this.#ledgers.set(id, ledger);
    ledger.on('decided', (l) => this.#checkDecided(l));
    ledger.on('finished', (l) => {
      this.#ledgers.delete(l.id);
      if (this.#listeners.length === 0) return;
      const final = this.#store.getBatch(l.id);
      if (final) for (const listener of this.#listeners) listener(final);
    });
    return ledger;
  }

  #checkDecided(runtime: BatchLedger): void {
    if (runtime.state !== 'running' || !runtime.complete) return;
    if (this.#finalizing.has(runtime.id)) return;
    this.#finalizing.add(runtime.id);
    setImmediate(() => {
      // Between the check and now, a unit may have been reopened, or the coordinator closed.
      const stillDecided = () => runtime.state === 'running' && runtime.complete;
      if (this.#store.closed || !stillDecided()) {
        this.#finalizing.delete(runtime.id);
        return;
      }
      // Adaptive replication: no single copy closes a batch unless a later check of its worker
      // vouches for it; the others are verified first, and the batch goes on until they are.
      if (runtime.policy.adaptive) {
        this.#store.flush();
        let reopened: number;
        try {
          // The audit reads and writes the store, which lacks the held writes: once they are in.
          if (this.#store.storageFault) throw this.#store.storageFault;
          reopened = this.#scheduler.auditSingleCopies(runtime);
        } catch (err) {
          if (!isStorageFault(err)) throw err;
          this.#finalizing.delete(runtime.id);
          setTimeout(() => this.#checkDecided(runtime), 1000).unref();
          return;
        }
        if (reopened > 0 || !stillDecided()) {
          this.#finalizing.delete(runtime.id);
          return;
        }
      }
      // Stop dispatching and reopening at once; the store says 'running' until the artifact is in.
      runtime.beginFinishing();
      void this.#finalize(runtime);
    });
  }

  async #finalize(runtime: BatchLedger): Promise<void> {
    try {
      this.#store.flush();
      // Writes held back by a full disk: the store lacks the last decisions, so neither reduce
      // nor close yet; try again once they are in.
      if (this.#store.storageFault) throw this.#store.storageFault;
      const row = this.#store.getBatch(runtime.id);
      if (!row) return;
      const params = row.params === null ? undefined : (JSON.parse(row.params) as Json);
      let artifact: Artifact | undefined;
      try {
        artifact = await reduceBatch(this.#store, runtime, params);
      } catch (err) {
        this.#log('reducer-failed', { batch: runtime.id, error: (err as Error).message });
      }
      runtime.finish(artifact && (() => this.#store.setArtifact(runtime.id, artifact)));
      this.#scheduler.dropBatch(runtime.id, 'batch finished');
      const final = this.#store.getBatch(runtime.id)!;
      this.#log('batch-finished', { batch: runtime.id, state: final.state, validated: final.validated, failed: final.failed, summary: final.summary });
    } catch (err) {
      if (isStorageFault(err) && !this.#store.closed) {
        // A full or failing disk is no fault of the batch: it closes once the disk takes writes.
        this.#log('finalize-deferred', { batch: runtime.id, error: (err as Error).message });
        setTimeout(() => void this.#finalize(runtime), 1000).unref();
        return;
      }
      // An artifact too big to store: the batch ends failed with the reason, rather than an
      // unhandled rejection taking the coordinator down (and again at every restart).
      this.#log('finalize-failed', { batch: runtime.id, error: (err as Error).message });
      if (!this.#store.closed) {
        try {
          if (runtime.state === 'finishing') runtime.failFinishing(`finalisation failed: ${(err as Error).message}`);
          this.#scheduler.dropBatch(runtime.id, 'batch failed');
        } catch {
          // The store itself is failing: the fail-stop handler deals with that.
        }
      }
    } finally {
      this.#finalizing.delete(runtime.id);
    }
  }

  cancel(id: string): BatchRow {
    const row = this.#store.getBatch(id);
    if (!row) throw CoordinatorErrors.BATCH_NOT_FOUND(id);
    const ledger = this.#ledgers.get(id);
    // A finishing batch: the outcome its artifact is being stored with.
    if (ledger?.state === 'finishing') throw CoordinatorErrors.BATCH_FINISHED(id, ledger.outcome);
    if (isFinalBatchState(row.state)) throw CoordinatorErrors.BATCH_FINISHED(id, row.state);
    // Every live batch has a ledger; a rejected one whose delete waits for the disk is gone.
    if (!ledger) throw CoordinatorErrors.BATCH_NOT_FOUND(id);
    // Writes held back by a full disk hold tasks the store does not list yet: withdrawing from the
    // store's leases now would miss them (they would expire as timeouts charged to their workers),
    // and the cancel would commit ahead of them. Refused (507) until the disk takes them.
    this.#store.flush();
    if (this.#store.storageFault) throw this.#store.storageFault;
    this.#scheduler.dropBatch(id, 'batch cancelled');
    this.#store.flush();
    // A batch still streaming in sees the state and stops taking inputs (see create()).
    ledger.cancel(() => this.#store.cancelPendingWorkUnits(id));
    const final = this.#store.getBatch(id)!;
    this.#log('batch-cancelled', { batch: id });
    return final;
  }

  /** After a restart: resume running batches, drop submissions that never finished streaming in. */
  recover(): void {
    for (const row of this.#store.batchesInState('loading')) {
      this.#log('batch-discarded', { batch: row.id, reason: 'submission interrupted before it was acknowledged' });
      // Its leases were loaded with the others: forget them, or they would expire into timeouts
      // charged to the workers that held them.
      for (const id of this.#store.leasedTaskIdsOf(row.id)) this.#scheduler.leases.delete(id);
      this.#store.deleteBatch(row.id);
    }
    for (const row of this.#store.batchesInState('running')) {
      const job = this.#job(row.kind);
      const counts = { total: row.total, validated: row.validated, failed: row.failed };
      const ledger = this.#ledger(row.id, job, storedPolicy(row.policy), row.created_at, 'running', counts);
      if (!job) {
        // Not scheduled, and said so where its submitter looks (`error` in its status): results
        // can only be judged with the kind's comparator. It resumes after a restart with the kind.
        const reason = `job kind ${row.kind} is not available on this coordinator (its code is missing or failed its hash check); the batch resumes when it is (swarmgrid kind add, then restart)`;
        ledger.stall(reason);
        this.#log('batch-stalled', { batch: row.id, reason });
        continue;
      }
      // The note of an earlier stall: the kind is back.
      if (row.error?.startsWith(STALLED)) this.#store.setBatchError(row.id, null);
      this.#scheduler.addBatch(ledger);
      this.#checkDecided(ledger);
    }
  }
}

export { STALLED } from './batch-ledger.js';

/** What running a catalogue entry's tasks takes. */
function jobOf(entry: CatalogEntry): LedgerJob {
  return { kind: entry.kind, codeHash: entry.codeHash, agree: agreeFor(entry.kind) };
}
