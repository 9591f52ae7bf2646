/**
 * The coordinator's durable store as named operations: what the rest of the coordinator may ask
 * of its records. SQLite (sqlite-store.ts) is the first implementation; nothing outside
 * coordinator/store/ writes SQL (test/coordinator/store-boundary.test.ts checks it).
 *
 * Transaction model, which callers rely on: writes of one event-loop tick are queued with
 * `defer` and committed together, in order, in one transaction; what may only happen once they
 * are durable (acknowledging results, sending assignments) is queued with `afterCommit`. A
 * group the disk refuses (full, failing) is held back with its after-commit work and committed,
 * the same writes in the same order, when the disk takes writes again; meanwhile `storageFault`
 * is set. Other operations run at once, each its own implicit transaction, or inside
 * `transaction(fn)` together. Reads see what is committed (deferred writes not yet flushed are
 * not visible).
 *
 * Bounds: every read returns at most a fixed number of rows. A read named `list…` or taking a
 * `limit` returns at most that many; the reads that callers need whole (recovery on start, all
 * leases of a batch…) are paged inside, `STORE_PAGE` rows per query (or fewer where rows are
 * large), and say what bounds their total. Errors: a disk fault is thrown coded
 * (GRID_ERR_STORAGE_FULL 507, GRID_ERR_STORAGE 500: storage-errors.ts) by `transaction` and
 * by the constructor; an operation on a closed store throws.
 */
import type { StoredBatchState, TaskState, WorkUnitState } from '../states.js';
import type {
  ArtifactRow, BatchCursor, BatchRow, KindRow, LeasedTaskRow, NewBatchRow, OutcomeRow, PendingUnitRow, ResultRow, SingleCopyRow,
  SubmissionRow, TaskRow, TokenRow, WorkerRow, WorkerTallyRow, WorkUnitRow,
} from './rows.js';

/** Rows per query of the reads that page through everything a caller needs (see each). */
export const STORE_PAGE = 1000;

/** The transaction model (see the file's comment). */
export interface StoreTransactions {
  /** True once `close()` ran. */
  readonly closed: boolean;
  /** Grouped transactions committed so far (the /metrics counter). */
  readonly commits: number;
  /**
   * The disk fault holding writes back (coded, GRID_ERR_STORAGE_FULL…), or null. While set,
   * nothing new that needs storing should be accepted (submissions answer 507); reads work.
   */
  readonly storageFault: Error | null;
  /** Called when a grouped transaction fails for another reason than the disk (its after-commit work is dropped). Default: a line on stderr. */
  onError: (err: Error) => void;
  /** Called when the disk starts refusing writes (`fault`) and when it takes them again (`null`), with the writes held. Default: a line on stderr. */
  onStorage: (fault: Error | null, waiting: number) => void;
  /** Called when an after-commit callback throws; the others still run. Default: a line on stderr. */
  onCallbackError: (err: Error) => void;
  /** Queues a write for this tick's transaction. */
  defer(op: () => void): void;
  /** Runs `fn` once everything deferred so far is committed. */
  afterCommit(fn: () => void): void;
  /** Commits every deferred write now, then runs the after-commit callbacks (a no-op while the disk refuses writes: the retry commits). */
  flush(): void;
  /** Runs `fn` in its own transaction, now; a disk fault is thrown coded, with nothing of `fn` stored. */
  transaction<T>(fn: () => T): T;
  /** Flushes and closes; idempotent. */
  close(): void;
}

/** Batches (table `batches`). */
export interface BatchStore {
  /** Stores a new batch (counters 0, created now). Throws on a duplicate id. */
  insertBatch(row: NewBatchRow): void;
  getBatch(id: string): BatchRow | undefined;
  /** Ids of batches that start with `prefix` (lowercase hex), at most `limit`, in id order. */
  batchIdsStartingWith(prefix: string, limit: number): string[];
  /**
   * Batches newest first, at most `limit` (@defaultValue 100); only those in `states` when given;
   * after `before` (the last row of the previous page) when given.
   */
  listBatches(limit?: number, states?: readonly StoredBatchState[], before?: BatchCursor): BatchRow[];
  /**
   * Every batch in one of `states`, newest first, read `STORE_PAGE` at a time as the caller
   * iterates (what recovery on start walks). Rows changed or deleted while iterating are
   * neither repeated nor do they shift the pages.
   */
  batchesInState(...states: StoredBatchState[]): Iterable<BatchRow>;
  /** How many batches are in each state that has any (at most one row per state). */
  batchCountsByState(): { state: StoredBatchState; n: number }[];
  /** Sets the state; a final state (completed, failed, cancelled) sets `finished_at` too. `error` replaces the error text when not null. */
  setBatchState(id: string, state: StoredBatchState, error?: string | null): void;
  /** Sets or clears a batch's error text without changing its state (a stalled running batch). */
  setBatchError(id: string, error: string | null): void;
  setBatchTotal(id: string, total: number): void;
  /** Adds to the counters (negative to take back: a reopened unit). */
  bumpBatchCounts(id: string, validated: number, failed: number, issued: number): void;
  /** Moves units of a batch into (n > 0) or out of (n < 0) its provisional count. */
  bumpProvisional(id: string, n: number): void;
  setArtifact(id: string, artifact: { bytes: Uint8Array; contentType: string; fileName: string; summary: string }): void;
  getArtifact(id: string): ArtifactRow | undefined;
  /** Deletes a batch with its units, tasks and idempotency key, in one transaction. */
  deleteBatch(id: string): void;
}

/** Work units and their tasks (tables `work_units`, `tasks`). */
export interface WorkStore {
  /**
   * Stores one chunk of a batch's inputs (seqs firstSeq…) in one transaction, and raises the
   * batch's total with it so that its status shows how much has streamed in so far.
   */
  insertWorkUnits(batchId: string, firstSeq: number, inputs: Uint8Array[]): void;
  /** Pending units of a batch after unit id `afterId`, in id order, at most `limit`, inputs included (the feeder's refill). */
  pendingWorkUnits(batchId: string, afterId: number, limit: number): PendingUnitRow[];
  getWorkUnit(id: number): WorkUnitRow | undefined;
  finishWorkUnit(id: number, state: WorkUnitState, canonicalTask: number | null, agreed: number, reason: string | null): void;
  /** Back to pending, without a canonical result (adaptive replication's re-check). */
  reopenWorkUnit(id: number): void;
  /** Marks a batch's pending units cancelled (a cancelled batch). */
  cancelPendingWorkUnits(batchId: string): void;
  /** Decided units (validated, failed) after `afterSeq` in seq order with their canonical output, at most `limit` (the reducer's input). */
  results(batchId: string, afterSeq: number, limit: number): ResultRow[];
  /**
   * Units after `afterSeq` in seq order whatever their state, with canonical outputs, at most
   * `limit`: the results stream, which must see undecided units to know where its in-order prefix ends.
   */
  outcomes(batchId: string, afterSeq: number, limit: number): OutcomeRow[];

  /** The highest task id ever stored, 0 for none. */
  maxTaskId(): number;
  /** Stores a task just leased to a worker (state 'leased'). Times in ms. */
  insertTask(t: { id: number; wuId: number; worker: string; address: string; runtime: string; provisional: boolean; issuedAt: number; deadline: number }): void;
  /** A unit's tasks in id order: bounded by its policy's maxTasks (at most 64) and its re-checks. */
  tasksOf(wuId: number): TaskRow[];
  getTask(id: number): TaskRow | undefined;
  /** Every task out at a worker (what a restart recovers leases from), read `STORE_PAGE` at a time in id order as the caller iterates. */
  leasedTasks(): Iterable<LeasedTaskRow>;
  /** Ids of a batch's tasks out at workers, in id order (bounded by the workers' credit; read in pages). */
  leasedTaskIdsOf(batchId: string): number[];
  /** A worker's result: state, output, its digest, error text, CPU ms; `finished_at` now. */
  setTaskResult(id: number, state: TaskState, output: Uint8Array | null, digest: Uint8Array | null, error: string | null, cpuMs: number): void;
  setTaskState(id: number, state: TaskState): void;
  setTaskProvisional(id: number, provisional: boolean): void;
  /**
   * A worker's single unchecked copies accepted as results of units still validated, in batches
   * still loading or running, in task id order (read in pages): what is re-checked when it is caught.
   */
  singleCopiesOf(worker: string): SingleCopyRow[];
  /**
   * Units of a batch validated on a single unchecked copy whose worker has had no quorum-checked
   * valid result since, in task id order (read in pages): what an adaptive batch audits before it closes.
   */
  unvouchedSingleCopies(batchId: string): number[];
}

/** Workers seen and their reputation (table `workers`). */
export interface WorkerStore {
  /** Creates a worker's row or updates its runtime, address and last_seen. */
  touchWorker(key: string, runtime: string, address: string): void;
  getWorker(key: string): WorkerRow | undefined;
  /** Most recently seen first, at most `limit` (@defaultValue 1000). */
  listWorkers(limit?: number): WorkerRow[];
  /** Applies a worker's reputation events of one tick. */
  bumpWorker(key: string, tally: WorkerTallyRow): void;
}

/** Bearer tokens, by hash (table `tokens`). */
export interface TokenStore {
  /** Throws on a duplicate hash. */
  insertToken(row: TokenRow): void;
  getToken(hash: string): TokenRow | undefined;
  /** Every token, oldest first (ties by hash), read `STORE_PAGE` at a time as the caller iterates. */
  tokens(): Iterable<TokenRow>;
  /** Tokens whose hash starts with `prefix` (lowercase hex), at most `limit`, in hash order. */
  tokensWithHashPrefix(prefix: string, limit: number): TokenRow[];
  deleteToken(hash: string): void;
}

/** Custom job kinds' bundles and the volunteers' declines of them (tables `kinds`, `declines`). */
export interface KindStore {
  /** Stores a kind's bundle, replacing one of the same name. */
  putKind(row: KindRow): void;
  getKind(name: string): KindRow | undefined;
  getKindHash(name: string): Buffer | undefined;
  /** Every stored kind in name order, read a few at a time (bundles are up to 4 MiB) as the caller iterates. */
  kinds(): Iterable<KindRow>;
  /** The names of the stored kinds in name order, no code read (bounded by the kinds stored). */
  kindNames(): string[];
  /** Remembers (replaces) a worker's decline of a kind, when that kind is stored here; a reason over 1000 characters is cut. */
  recordDecline(worker: string, kind: string, reason: string, at: number): void;
  /** Forgets a worker's declines whose reason starts with `reasonPrefix` (SQL LIKE prefix). */
  forgetDeclinesOf(worker: string, reasonPrefix: string): void;
  /** The kinds a worker declined (bounded by the kinds stored). */
  declinedKinds(worker: string): string[];
  /** Forgets every decline of a kind (new code for it). */
  forgetDeclinesOfKind(kind: string): void;
  /** The reason of the latest decline of a kind. */
  latestDecline(kind: string): string | undefined;
}

/** Idempotency keys of submissions (table `submissions`). */
export interface SubmissionStore {
  findSubmission(owner: string, key: string): SubmissionRow | undefined;
  insertSubmission(batchId: string, owner: string, key: string): void;
  setSubmissionBodyHash(batchId: string, bodyHash: string): void;
  deleteSubmission(batchId: string): void;
}

/** The whole store: what the coordinator's modules hold (`SqliteStore` implements it). */
export interface GridStore extends StoreTransactions, BatchStore, WorkStore, WorkerStore, TokenStore, KindStore, SubmissionStore {}
