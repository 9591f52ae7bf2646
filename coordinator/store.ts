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
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.js';
import { isStorageFault, storageError } from './storage-errors.js';
import { DataDirLock } from './store-lock.js';
import type { BatchRow, OutcomeRow, ResultRow, TaskRow, WorkerRow, WorkUnitRow } from './store-rows.js';
import type { WorkerTally } from './reputation.js';
import type { BatchState, TaskState, WorkUnitState } from './states.js';

export type { BatchRow, OutcomeRow, ResultRow, TaskRow, WorkerRow, WorkUnitRow } from './store-rows.js';

export interface StoreOptions {
  dataDir: string;
  durability?: 'normal' | 'full';
  /**
   * Hold the data directory's lock (see store-lock.ts): what a coordinator does. Tools that open
   * the store beside a running coordinator (`token create`) leave it off. @defaultValue false
   */
  lock?: boolean;
}

/** How often writes held back by a full or failing disk are tried again, ms. */
const STORAGE_RETRY_MS = 1000;

/** Rows per multi-row INSERT: one statement call per 200 work units is about twice as fast as one per unit. */
const INSERT_ROWS = 200;

type Op = () => void;

/** better-sqlite3 binds Buffers, not plain Uint8Arrays: wrap without copying. */
export function blob(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null) return null;
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class Store {
  readonly db: Database.Database;
  readonly path: string;
  #ops: Op[] = [];
  #after: Op[] = [];
  #scheduled = false;
  #closed = false;
  #commits = 0;
  #stmts = new Map<string, Database.Statement>();
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
      Store.#configure(db, options);
    } catch (err) {
      // A store that failed to open must not keep the directory locked.
      db?.close();
      this.#lock?.release();
      // A full disk at start is a coded one-line error, not an SQLite stack.
      throw storageError(err, this.path);
    }
    this.db = db;
  }

  static #configure(db: Database.Database, options: StoreOptions): void {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = OFF');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -32000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`store schema ${version} is newer than this coordinator (${SCHEMA_VERSION})`);
    if (version > 0 && version < SCHEMA_VERSION) Store.#migrate(db);
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

  /** A cached prepared statement. */
  stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
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
        this.db.transaction(() => {
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
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      throw storageError(err, this.path);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    if (this.#retry) clearTimeout(this.#retry);
    this.#closed = true;
    this.db.close();
    this.#lock?.release();
  }

  // ---- batches -------------------------------------------------------------------------------

  insertBatch(row: Pick<BatchRow, 'id' | 'kind' | 'kind_version' | 'params' | 'policy' | 'state' | 'priority' | 'owner'> & { code_hash: Buffer | null }): void {
    this.stmt(`INSERT INTO batches (id, kind, kind_version, code_hash, params, policy, state, priority, owner, created_at)
      VALUES (@id, @kind, @kind_version, @code_hash, @params, @policy, @state, @priority, @owner, @created_at)`).run({ ...row, created_at: Date.now() });
  }

  getBatch(id: string): BatchRow | undefined {
    return this.stmt(`SELECT id, kind, kind_version, code_hash, params, policy, state, priority, total, validated, failed,
      tasks_issued, provisional, created_at, finished_at, owner, artifact_type, artifact_name, summary, error FROM batches WHERE id = ?`).get(id) as BatchRow | undefined;
  }

  /** Ids of batches that start with `prefix` (lowercase hex), at most `limit`, in id order. */
  batchIdsStartingWith(prefix: string, limit: number): string[] {
    // A range on the primary key, not LIKE (case-insensitive, so no index): hex digits sort below 'g'.
    return (this.stmt(`SELECT id FROM batches WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`).all(prefix, `${prefix}g`, limit) as { id: string }[]).map((r) => r.id);
  }

  listBatches(limit = 100): BatchRow[] {
    return this.stmt(`SELECT id, kind, kind_version, code_hash, params, policy, state, priority, total, validated, failed,
      tasks_issued, provisional, created_at, finished_at, owner, artifact_type, artifact_name, summary, error
      FROM batches ORDER BY created_at DESC LIMIT ?`).all(limit) as BatchRow[];
  }

  batchesInState(...states: BatchState[]): BatchRow[] {
    return this.listBatches(1_000_000).filter((b) => states.includes(b.state));
  }

  setBatchState(id: string, state: BatchState, error: string | null = null): void {
    const finished = state === 'completed' || state === 'failed' || state === 'cancelled' ? Date.now() : null;
    this.stmt('UPDATE batches SET state = ?, finished_at = ?, error = COALESCE(?, error) WHERE id = ?').run(state, finished, error, id);
  }

  /** Sets or clears a batch's error text without changing its state (a stalled running batch). */
  setBatchError(id: string, error: string | null): void {
    this.stmt('UPDATE batches SET error = ? WHERE id = ?').run(error, id);
  }

  setBatchTotal(id: string, total: number): void {
    this.stmt('UPDATE batches SET total = ? WHERE id = ?').run(total, id);
  }

  bumpBatchCounts(id: string, validated: number, failed: number, issued: number): void {
    this.stmt('UPDATE batches SET validated = validated + ?, failed = failed + ?, tasks_issued = tasks_issued + ? WHERE id = ?').run(validated, failed, issued, id);
  }

  /** Moves units of a batch into (n > 0) or out of (n < 0) its provisional count. */
  bumpProvisional(id: string, n: number): void {
    this.stmt('UPDATE batches SET provisional = provisional + ? WHERE id = ?').run(n, id);
  }

  setArtifact(id: string, artifact: { bytes: Uint8Array; contentType: string; fileName: string; summary: string }): void {
    this.stmt('UPDATE batches SET artifact = ?, artifact_type = ?, artifact_name = ?, summary = ? WHERE id = ?')
      .run(blob(artifact.bytes), artifact.contentType, artifact.fileName, artifact.summary, id);
  }

  getArtifact(id: string): { artifact: Buffer; artifact_type: string; artifact_name: string } | undefined {
    return this.stmt('SELECT artifact, artifact_type, artifact_name FROM batches WHERE id = ? AND artifact IS NOT NULL').get(id) as
      | { artifact: Buffer; artifact_type: string; artifact_name: string }
      | undefined;
  }

  deleteBatch(id: string): void {
    this.transaction(() => {
      this.stmt('DELETE FROM tasks WHERE wu_id IN (SELECT id FROM work_units WHERE batch_id = ?)').run(id);
      this.stmt('DELETE FROM work_units WHERE batch_id = ?').run(id);
      this.stmt('DELETE FROM batches WHERE id = ?').run(id);
      this.stmt('DELETE FROM submissions WHERE batch_id = ?').run(id);
    });
  }

  // ---- work units ------------------------------------------------------------------------------

  /**
   * Stores one chunk of a batch's inputs (seqs firstSeq…) in one transaction, and raises the
   * batch's total with it so that its status shows how much has streamed in so far.
   */
  insertWorkUnits(batchId: string, firstSeq: number, inputs: Uint8Array[]): void {
    const many = this.stmt(`INSERT INTO work_units (batch_id, seq, input) VALUES ${Array(INSERT_ROWS).fill('(?, ?, ?)').join(', ')}`);
    const one = this.stmt('INSERT INTO work_units (batch_id, seq, input) VALUES (?, ?, ?)');
    const args: unknown[] = new Array(INSERT_ROWS * 3);
    this.transaction(() => {
      let i = 0;
      for (; i + INSERT_ROWS <= inputs.length; i += INSERT_ROWS) {
        for (let k = 0; k < INSERT_ROWS; k++) {
          args[3 * k] = batchId;
          args[3 * k + 1] = firstSeq + i + k;
          args[3 * k + 2] = blob(inputs[i + k]!);
        }
        many.run(args);
      }
      for (; i < inputs.length; i++) one.run(batchId, firstSeq + i, blob(inputs[i]!));
      this.setBatchTotal(batchId, firstSeq + inputs.length);
    });
  }

  /** Pending work units of a batch after `afterId`, in id order (the feeder's refill query). */
  pendingWorkUnits(batchId: string, afterId: number, limit: number): Pick<WorkUnitRow, 'id' | 'seq'>[] {
    return this.stmt(`SELECT id, seq FROM work_units WHERE batch_id = ? AND state = 'pending' AND id > ? ORDER BY id LIMIT ?`)
      .all(batchId, afterId, limit) as Pick<WorkUnitRow, 'id' | 'seq'>[];
  }

  getWorkUnit(id: number): WorkUnitRow | undefined {
    return this.stmt('SELECT * FROM work_units WHERE id = ?').get(id) as WorkUnitRow | undefined;
  }

  finishWorkUnit(id: number, state: WorkUnitState, canonicalTask: number | null, agreed: number, reason: string | null): void {
    this.stmt('UPDATE work_units SET state = ?, canonical_task = ?, agreed = ?, fail_reason = ? WHERE id = ?').run(state, canonicalTask, agreed, reason, id);
  }

  reopenWorkUnit(id: number): void {
    this.stmt(`UPDATE work_units SET state = 'pending', canonical_task = NULL, agreed = 0 WHERE id = ?`).run(id);
  }

  /** Canonical results in work-unit order, from `afterSeq` on. */
  results(batchId: string, afterSeq: number, limit: number): ResultRow[] {
    return this.stmt(`SELECT wu.seq, wu.state, wu.agreed, wu.fail_reason, wu.input, t.output, t.worker
      FROM work_units wu LEFT JOIN tasks t ON t.id = wu.canonical_task
      WHERE wu.batch_id = ? AND wu.seq > ? AND wu.state IN ('validated', 'failed') ORDER BY wu.seq LIMIT ?`)
      .all(batchId, afterSeq, limit) as ResultRow[];
  }

  /**
   * Work units after `afterSeq` in seq order whatever their state, with canonical outputs: the
   * results stream, which must see undecided units to know where its in-order prefix ends.
   */
  outcomes(batchId: string, afterSeq: number, limit: number): OutcomeRow[] {
    return this.stmt(`SELECT wu.seq, wu.state, wu.agreed, wu.fail_reason, t.output, t.provisional
      FROM work_units wu LEFT JOIN tasks t ON t.id = wu.canonical_task
      WHERE wu.batch_id = ? AND wu.seq > ? ORDER BY wu.seq LIMIT ?`)
      .all(batchId, afterSeq, limit) as OutcomeRow[];
  }

  // ---- tasks -----------------------------------------------------------------------------------

  maxTaskId(): number {
    return (this.stmt('SELECT COALESCE(MAX(id), 0) AS n FROM tasks').get() as { n: number }).n;
  }

  insertTask(t: { id: number; wuId: number; worker: string; address: string; runtime: string; provisional: boolean; issuedAt: number; deadline: number }): void {
    this.stmt(`INSERT INTO tasks (id, wu_id, worker, address, runtime, state, provisional, issued_at, deadline)
      VALUES (?, ?, ?, ?, ?, 'leased', ?, ?, ?)`).run(t.id, t.wuId, t.worker, t.address, t.runtime, t.provisional ? 1 : 0, t.issuedAt, t.deadline);
  }

  tasksOf(wuId: number): TaskRow[] {
    return this.stmt('SELECT * FROM tasks WHERE wu_id = ? ORDER BY id').all(wuId) as TaskRow[];
  }

  getTask(id: number): TaskRow | undefined {
    return this.stmt('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
  }

  leasedTasks(): (Pick<TaskRow, 'id' | 'wu_id' | 'worker' | 'address' | 'issued_at' | 'deadline'> & { batch_id: string })[] {
    return this.stmt(`SELECT t.id, t.wu_id, t.worker, t.address, t.issued_at, t.deadline, w.batch_id FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE t.state = 'leased'`).all() as (Pick<TaskRow, 'id' | 'wu_id' | 'worker' | 'address' | 'issued_at' | 'deadline'> & { batch_id: string })[];
  }

  setTaskResult(id: number, state: TaskState, output: Uint8Array | null, digest: Uint8Array | null, error: string | null, cpuMs: number): void {
    this.stmt('UPDATE tasks SET state = ?, output = ?, digest = ?, error = ?, cpu_ms = ?, finished_at = ? WHERE id = ?')
      .run(state, blob(output), blob(digest), error, cpuMs, Date.now(), id);
  }

  setTaskState(id: number, state: TaskState): void {
    this.stmt('UPDATE tasks SET state = ? WHERE id = ?').run(state, id);
  }

  setTaskProvisional(id: number, provisional: boolean): void {
    this.stmt('UPDATE tasks SET provisional = ? WHERE id = ?').run(provisional ? 1 : 0, id);
  }

  // ---- workers ---------------------------------------------------------------------------------

  touchWorker(key: string, runtime: string, address: string): void {
    const now = Date.now();
    this.stmt(`INSERT INTO workers (key, runtime, address, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET runtime = excluded.runtime, address = excluded.address, last_seen = excluded.last_seen`)
      .run(key, runtime, address, now, now);
  }

  getWorker(key: string): WorkerRow | undefined {
    return this.stmt('SELECT * FROM workers WHERE key = ?').get(key) as WorkerRow | undefined;
  }

  listWorkers(limit = 1000): WorkerRow[] {
    return this.stmt('SELECT * FROM workers ORDER BY last_seen DESC LIMIT ?').all(limit) as WorkerRow[];
  }

  /** Applies a worker's reputation events of one tick (reputation.ts). */
  bumpWorker(key: string, t: WorkerTally): void {
    this.stmt(`UPDATE workers SET valid = valid + ?, invalid = invalid + ?, errors = errors + ?, timeouts = timeouts + ?,
      tasks_done = tasks_done + ?, cpu_ms = cpu_ms + ?,
      consecutive_valid = CASE WHEN ? THEN ? ELSE consecutive_valid + ? END WHERE key = ?`)
      .run(t.valid, t.invalid, t.errors, t.timeouts, t.tasksDone, t.cpuMs, t.reset ? 1 : 0, t.validSinceReset, t.validSinceReset, key);
  }

}
