/**
 * The coordinator's durable store: one SQLite file (better-sqlite3, WAL). Writes from one
 * event-loop tick are grouped into one transaction (`defer`), and whatever must only happen once
 * they are durable (acknowledging results, sending assignments) runs after the commit
 * (`afterCommit`). WAL with synchronous=NORMAL survives a killed process; `durability: 'full'`
 * also survives power loss at the cost of an fsync per group.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredBatchState, TaskState, WorkUnitState } from '../states.js';
import { isStorageFault, storageError } from '../storage-errors.js';
import type { GridStore } from './grid-store.js';
import { DataDirLock } from './lock.js';
import type { BatchCursor, KindRow, NewBatchRow, TokenRow, WorkerTallyRow } from './rows.js';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.js';
import { SqliteBatches } from './sqlite-batches.js';
import { SqliteDb } from './sqlite-db.js';
import { SqliteKinds } from './sqlite-kinds.js';
import { SqliteSubmissions } from './sqlite-submissions.js';
import { SqliteTokens } from './sqlite-tokens.js';
import { SqliteWork } from './sqlite-work.js';
import { SqliteWorkers } from './sqlite-workers.js';

export interface StoreOptions {
  dataDir: string;
  durability?: 'normal' | 'full';
  /**
   * Hold the data directory's lock (see lock.ts): what a coordinator does. Tools that open
   * the store beside a running coordinator (`token create`) leave it off. @defaultValue false
   */
  lock?: boolean;
}

/** How often writes held back by a full or failing disk are tried again, ms. */
const STORAGE_RETRY_MS = 1000;

type Op = () => void;

/**
 * The GridStore on one SQLite file. The operations live in one part per concept (sqlite-*.ts),
 * sharing the connection and its statement cache; this class opens the file and runs the
 * transaction model.
 */
export class SqliteStore implements GridStore {
  /** The database file. */
  readonly path: string;
  #sql: SqliteDb;
  #batches: SqliteBatches;
  #work: SqliteWork;
  #workers: SqliteWorkers;
  #tokens: SqliteTokens;
  #kinds: SqliteKinds;
  #submissions: SqliteSubmissions;
  #ops: Op[] = [];
  #after: Op[] = [];
  #scheduled = false;
  #closed = false;
  #commits = 0;
  #lock: DataDirLock | null = null;
  /** The disk fault that holds writes back (full disk…), until a commit succeeds again. */
  #fault: Error | null = null;
  #retry: NodeJS.Timeout | null = null;

  constructor(options: StoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.path = join(options.dataDir, 'coordinator.sqlite');
    let db: Database.Database | undefined;
    try {
      if (options.lock) this.#lock = DataDirLock.acquire(options.dataDir);
      db = new Database(this.path);
      SqliteStore.#configure(db, options);
    } catch (err) {
      // A store that failed to open must not keep the directory locked.
      db?.close();
      this.#lock?.release();
      // A full disk at start is a coded one-line error, not an SQLite stack.
      throw storageError(err, this.path);
    }
    this.#sql = new SqliteDb(db, this.path);
    this.#batches = new SqliteBatches(this.#sql);
    this.#work = new SqliteWork(this.#sql, (id, total) => this.#batches.setBatchTotal(id, total));
    this.#workers = new SqliteWorkers(this.#sql);
    this.#tokens = new SqliteTokens(this.#sql);
    this.#kinds = new SqliteKinds(this.#sql);
    this.#submissions = new SqliteSubmissions(this.#sql);
  }

  static #configure(db: Database.Database, options: StoreOptions): void {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = OFF');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -32000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`store schema ${version} is newer than this coordinator (${SCHEMA_VERSION})`);
    if (version > 0 && version < SCHEMA_VERSION) SqliteStore.#migrate(db);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** Brings an older store up to SCHEMA_VERSION, one step per transaction with its version bump. */
  static #migrate(db: Database.Database): void {
    for (;;) {
      // IMMEDIATE, and the version read again inside: a `token create` opening the store while
      // a coordinator starts on it must not run a step twice.
      const done = db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version >= SCHEMA_VERSION) return true;
        const step = MIGRATIONS[version];
        if (step === undefined) throw new Error(`store schema ${version} cannot be upgraded by this coordinator (${SCHEMA_VERSION})`);
        db.exec(step);
        db.pragma(`user_version = ${version + 1}`);
        return false;
      }).immediate();
      if (done) return;
    }
  }

  /** Called when a grouped transaction fails (the default logs to stderr). */
  onError: (err: Error) => void = (err) => process.stderr.write(`swarmgrid store: transaction failed: ${err.stack ?? err.message}\n`);

  /**
   * Called when the disk starts refusing writes (`fault`, coded: GRID_ERR_STORAGE_FULL…) and when
   * it takes them again (`null`). The default logs one line to stderr each time.
   */
  onStorage: (fault: Error | null, waiting: number) => void = (fault, waiting) => process.stderr.write(fault
    ? `swarmgrid store: ${(fault as { code?: string }).code}: ${fault.message}; ${waiting} writes held (nothing of them acknowledged), retrying every ${STORAGE_RETRY_MS / 1000} s\n`
    : `swarmgrid store: writes resumed (${waiting} held writes committed)\n`);

  /**
   * The disk fault holding writes back, or null. While set, nothing new should be accepted that
   * needs storing (submissions answer 507); reads keep working.
   */
  get storageFault(): Error | null {
    return this.#fault;
  }

  /** Queues a write for this tick's transaction. */
  defer(op: Op): void {
    this.#ops.push(op);
    this.#schedule();
  }

  /** Runs `fn` once everything deferred so far is committed. */
  afterCommit(fn: Op): void {
    this.#after.push(fn);
    this.#schedule();
  }

  /** Called when an after-commit callback throws (the default logs to stderr). */
  onCallbackError: (err: Error) => void = (err) => process.stderr.write(`swarmgrid store: after-commit callback failed: ${err.stack ?? err.message}\n`);

  get closed(): boolean {
    return this.#closed;
  }

  get commits(): number {
    return this.#commits;
  }

  #schedule(): void {
    // While the disk refuses writes, the retry timer flushes: not every tick.
    if (this.#scheduled || this.#closed || this.#fault) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits every deferred write in one transaction, then runs the after-commit callbacks. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    const ops = this.#ops;
    const after = this.#after;
    this.#ops = [];
    this.#after = [];
    if (ops.length > 0) {
      try {
        this.#sql.db.transaction(() => {
          for (const op of ops) op();
        })();
      } catch (err) {
        if (isStorageFault(err)) {
          // A full or failing disk: nothing of this group is stored, and the coordinator's memory
          // already acts on it (units decided, tasks issued). Hold the group, its acknowledgements
          // and assignments with it, ahead of what comes next, and commit it when the disk takes
          // writes again: the same writes on the same rolled-back state.
          this.#ops = ops.concat(this.#ops);
          this.#after = after.concat(this.#after);
          this.#holdBack(err as Error);
          return;
        }
        // Nothing of this group is stored, so nothing of it may be acknowledged: drop the
        // after-commit work. Workers keep unacknowledged results and send them again.
        this.onError(err as Error);
        return;
      }
      this.#commits++;
      if (this.#fault) {
        this.#fault = null;
        this.onStorage(null, ops.length);
      }
    }
    for (const fn of after) {
      // One failing callback (a send on a dead socket, a bug) must not cost the others their
      // acknowledgement or assignment.
      try {
        fn();
      } catch (err) {
        this.onCallbackError(err as Error);
      }
    }
  }

  #holdBack(err: Error): void {
    const first = this.#fault === null;
    this.#fault = storageError(err, this.path) as Error;
    if (first) this.onStorage(this.#fault, this.#ops.length);
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.flush();
    }, STORAGE_RETRY_MS);
    this.#retry.unref();
  }

  /**
   * Runs `fn` in its own transaction, now. A disk fault is thrown coded (GRID_ERR_STORAGE_FULL…),
   * with nothing of `fn` stored.
   */
  transaction<T>(fn: () => T): T {
    return this.#sql.transaction(fn);
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    if (this.#retry) clearTimeout(this.#retry);
    this.#closed = true;
    this.#sql.db.close();
    this.#lock?.release();
  }

  // The operations, by concept: documented on GridStore (grid-store.ts).

  insertBatch(row: NewBatchRow) { this.#batches.insertBatch(row); }
  getBatch(id: string) { return this.#batches.getBatch(id); }
  batchIdsStartingWith(prefix: string, limit: number) { return this.#batches.batchIdsStartingWith(prefix, limit); }
  listBatches(limit?: number, states?: readonly StoredBatchState[], before?: BatchCursor) { return this.#batches.listBatches(limit, states, before); }
  batchesInState(...states: StoredBatchState[]) { return this.#batches.batchesInState(...states); }
  batchCountsByState() { return this.#batches.batchCountsByState(); }
  setBatchState(id: string, state: StoredBatchState, error?: string | null) { this.#batches.setBatchState(id, state, error); }
  setBatchError(id: string, error: string | null) { this.#batches.setBatchError(id, error); }
  setBatchTotal(id: string, total: number) { this.#batches.setBatchTotal(id, total); }
  bumpBatchCounts(id: string, validated: number, failed: number, issued: number) { this.#batches.bumpBatchCounts(id, validated, failed, issued); }
  bumpProvisional(id: string, n: number) { this.#batches.bumpProvisional(id, n); }
  setArtifact(id: string, artifact: { bytes: Uint8Array; contentType: string; fileName: string; summary: string }) { this.#batches.setArtifact(id, artifact); }
  getArtifact(id: string) { return this.#batches.getArtifact(id); }
  deleteBatch(id: string) { this.#batches.deleteBatch(id); }

  insertWorkUnits(batchId: string, firstSeq: number, inputs: Uint8Array[]) { this.#work.insertWorkUnits(batchId, firstSeq, inputs); }
  pendingWorkUnits(batchId: string, afterId: number, limit: number) { return this.#work.pendingWorkUnits(batchId, afterId, limit); }
  getWorkUnit(id: number) { return this.#work.getWorkUnit(id); }
  finishWorkUnit(id: number, state: WorkUnitState, canonicalTask: number | null, agreed: number, reason: string | null) { this.#work.finishWorkUnit(id, state, canonicalTask, agreed, reason); }
  reopenWorkUnit(id: number) { this.#work.reopenWorkUnit(id); }
  cancelPendingWorkUnits(batchId: string) { this.#work.cancelPendingWorkUnits(batchId); }
  results(batchId: string, afterSeq: number, limit: number) { return this.#work.results(batchId, afterSeq, limit); }
  outcomes(batchId: string, afterSeq: number, limit: number) { return this.#work.outcomes(batchId, afterSeq, limit); }
  maxTaskId() { return this.#work.maxTaskId(); }
  insertTask(t: Parameters<SqliteWork['insertTask']>[0]) { this.#work.insertTask(t); }
  tasksOf(wuId: number) { return this.#work.tasksOf(wuId); }
  getTask(id: number) { return this.#work.getTask(id); }
  leasedTasks() { return this.#work.leasedTasks(); }
  leasedTaskIdsOf(batchId: string) { return this.#work.leasedTaskIdsOf(batchId); }
  setTaskResult(id: number, state: TaskState, output: Uint8Array | null, digest: Uint8Array | null, error: string | null, cpuMs: number) { this.#work.setTaskResult(id, state, output, digest, error, cpuMs); }
  setTaskState(id: number, state: TaskState) { this.#work.setTaskState(id, state); }
  setTaskProvisional(id: number, provisional: boolean) { this.#work.setTaskProvisional(id, provisional); }
  singleCopiesOf(worker: string) { return this.#work.singleCopiesOf(worker); }
  unvouchedSingleCopies(batchId: string) { return this.#work.unvouchedSingleCopies(batchId); }

  touchWorker(key: string, runtime: string, address: string) { this.#workers.touchWorker(key, runtime, address); }
  getWorker(key: string) { return this.#workers.getWorker(key); }
  listWorkers(limit?: number) { return this.#workers.listWorkers(limit); }
  bumpWorker(key: string, tally: WorkerTallyRow) { this.#workers.bumpWorker(key, tally); }

  insertToken(row: TokenRow) { this.#tokens.insertToken(row); }
  getToken(hash: string) { return this.#tokens.getToken(hash); }
  tokens() { return this.#tokens.tokens(); }
  tokensWithHashPrefix(prefix: string, limit: number) { return this.#tokens.tokensWithHashPrefix(prefix, limit); }
  deleteToken(hash: string) { this.#tokens.deleteToken(hash); }

  putKind(row: KindRow) { this.#kinds.putKind(row); }
  getKind(name: string) { return this.#kinds.getKind(name); }
  getKindHash(name: string) { return this.#kinds.getKindHash(name); }
  kinds() { return this.#kinds.kinds(); }
  kindNames() { return this.#kinds.kindNames(); }
  recordDecline(worker: string, kind: string, reason: string, at: number) { this.#kinds.recordDecline(worker, kind, reason, at); }
  forgetDeclinesOf(worker: string, reasonPrefix: string) { this.#kinds.forgetDeclinesOf(worker, reasonPrefix); }
  declinedKinds(worker: string) { return this.#kinds.declinedKinds(worker); }
  forgetDeclinesOfKind(kind: string) { this.#kinds.forgetDeclinesOfKind(kind); }
  latestDecline(kind: string) { return this.#kinds.latestDecline(kind); }

  findSubmission(owner: string, key: string) { return this.#submissions.findSubmission(owner, key); }
  insertSubmission(batchId: string, owner: string, key: string) { this.#submissions.insertSubmission(batchId, owner, key); }
  setSubmissionBodyHash(batchId: string, bodyHash: string) { this.#submissions.setSubmissionBodyHash(batchId, bodyHash); }
  deleteSubmission(batchId: string) { this.#submissions.deleteSubmission(batchId); }
}
