/**
 * Work units and tasks in SQLite (tables `work_units`, `tasks`): the WorkStore part of
 * SqliteStore. insertTask and setTaskResult run once per task: one cached statement each.
 */
import type { TaskState, WorkUnitState } from '../states.js';
import { STORE_PAGE, type WorkStore } from './grid-store.js';
import type { LeasedTaskRow, OutcomeRow, PendingUnitRow, ResultRow, SingleCopyRow, TaskRow, WorkUnitRow } from './rows.js';
import { blob, type SqliteDb } from './sqlite-db.js';

/** Rows per multi-row INSERT: one statement call per 200 work units is about twice as fast as one per unit. */
const INSERT_ROWS = 200;

export class SqliteWork implements WorkStore {
  #sql: SqliteDb;
  /** Raises a batch's total with each chunk of its units (the batches part's statement). */
  #setTotal: (batchId: string, total: number) => void;

  constructor(sql: SqliteDb, setTotal: (batchId: string, total: number) => void) {
    this.#sql = sql;
    this.#setTotal = setTotal;
  }

  // ---- work units ------------------------------------------------------------------------------

  insertWorkUnits(batchId: string, firstSeq: number, inputs: Uint8Array[]): void {
    const many = this.#sql.stmt(`INSERT INTO work_units (batch_id, seq, input) VALUES ${Array(INSERT_ROWS).fill('(?, ?, ?)').join(', ')}`);
    const one = this.#sql.stmt('INSERT INTO work_units (batch_id, seq, input) VALUES (?, ?, ?)');
    const args: unknown[] = new Array(INSERT_ROWS * 3);
    this.#sql.transaction(() => {
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
      this.#setTotal(batchId, firstSeq + inputs.length);
    });
  }

  pendingWorkUnits(batchId: string, afterId: number, limit: number): PendingUnitRow[] {
    return this.#sql.stmt(`SELECT w.id, w.seq, w.input, EXISTS (SELECT 1 FROM tasks t WHERE t.wu_id = w.id) AS started
      FROM work_units w WHERE w.batch_id = ? AND w.state = 'pending' AND w.id > ? ORDER BY w.id LIMIT ?`)
      .all(batchId, afterId, limit) as PendingUnitRow[];
  }

  getWorkUnit(id: number): WorkUnitRow | undefined {
    return this.#sql.stmt('SELECT * FROM work_units WHERE id = ?').get(id) as WorkUnitRow | undefined;
  }

  finishWorkUnit(id: number, state: WorkUnitState, canonicalTask: number | null, agreed: number, reason: string | null): void {
    this.#sql.stmt('UPDATE work_units SET state = ?, canonical_task = ?, agreed = ?, fail_reason = ? WHERE id = ?').run(state, canonicalTask, agreed, reason, id);
  }

  reopenWorkUnit(id: number): void {
    this.#sql.stmt(`UPDATE work_units SET state = 'pending', canonical_task = NULL, agreed = 0 WHERE id = ?`).run(id);
  }

  cancelPendingWorkUnits(batchId: string): void {
    this.#sql.stmt(`UPDATE work_units SET state = 'cancelled' WHERE batch_id = ? AND state = 'pending'`).run(batchId);
  }

  results(batchId: string, afterSeq: number, limit: number): ResultRow[] {
    return this.#sql.stmt(`SELECT wu.seq, wu.state, wu.agreed, wu.fail_reason, wu.input, t.output, t.worker
      FROM work_units wu LEFT JOIN tasks t ON t.id = wu.canonical_task
      WHERE wu.batch_id = ? AND wu.seq > ? AND wu.state IN ('validated', 'failed') ORDER BY wu.seq LIMIT ?`)
      .all(batchId, afterSeq, limit) as ResultRow[];
  }

  outcomes(batchId: string, afterSeq: number, limit: number): OutcomeRow[] {
    return this.#sql.stmt(`SELECT wu.seq, wu.state, wu.agreed, wu.fail_reason, t.output, t.provisional
      FROM work_units wu LEFT JOIN tasks t ON t.id = wu.canonical_task
      WHERE wu.batch_id = ? AND wu.seq > ? ORDER BY wu.seq LIMIT ?`)
      .all(batchId, afterSeq, limit) as OutcomeRow[];
  }

  // ---- tasks -----------------------------------------------------------------------------------

  maxTaskId(): number {
    return (this.#sql.stmt('SELECT COALESCE(MAX(id), 0) AS n FROM tasks').get() as { n: number }).n;
  }

  insertTask(t: { id: number; wuId: number; worker: string; address: string; runtime: string; provisional: boolean; issuedAt: number; deadline: number }): void {
    this.#sql.stmt(`INSERT INTO tasks (id, wu_id, worker, address, runtime, state, provisional, issued_at, deadline)
      VALUES (?, ?, ?, ?, ?, 'leased', ?, ?, ?)`).run(t.id, t.wuId, t.worker, t.address, t.runtime, t.provisional ? 1 : 0, t.issuedAt, t.deadline);
  }

  tasksOf(wuId: number): TaskRow[] {
    return this.#sql.stmt('SELECT * FROM tasks WHERE wu_id = ? ORDER BY id').all(wuId) as TaskRow[];
  }

  getTask(id: number): TaskRow | undefined {
    return this.#sql.stmt('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
  }

  leasedTasks(): Iterable<LeasedTaskRow> {
    // Paged along the partial index of leased tasks (deadline, then id): never a scan of all tasks.
    return this.#sql.pages(STORE_PAGE, (after: LeaseCursor | undefined, page) => this.#sql.stmt(`SELECT t.id, t.wu_id, t.worker, t.address, t.issued_at, t.deadline, w.batch_id
      FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE t.state = 'leased' AND t.deadline >= @deadline AND (t.deadline > @deadline OR t.id > @id) ORDER BY t.deadline, t.id LIMIT @page`)
      .all({ ...(after ?? FIRST_LEASE), page }) as LeasedTaskRow[], leaseCursor);
  }

  leasedTaskIdsOf(batchId: string): number[] {
    // Along the leased tasks' index too (`+` keeps SQLite off the batch's units, which would
    // read every unit of the batch, decided or not, for a handful of leases).
    const pages = this.#sql.pages(STORE_PAGE, (after: LeaseCursor | undefined, page) => this.#sql.stmt(`SELECT t.id, t.deadline FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE t.state = 'leased' AND t.deadline >= @deadline AND (t.deadline > @deadline OR t.id > @id) AND +w.batch_id = @batch
      ORDER BY t.deadline, t.id LIMIT @page`).all({ ...(after ?? FIRST_LEASE), batch: batchId, page }) as { id: number; deadline: number }[], leaseCursor);
    return Array.from(pages, (r) => r.id);
  }

  setTaskResult(id: number, state: TaskState, output: Uint8Array | null, digest: Uint8Array | null, error: string | null, cpuMs: number): void {
    this.#sql.stmt('UPDATE tasks SET state = ?, output = ?, digest = ?, error = ?, cpu_ms = ?, finished_at = ? WHERE id = ?')
      .run(state, blob(output), blob(digest), error, cpuMs, Date.now(), id);
  }

  setTaskState(id: number, state: TaskState): void {
    this.#sql.stmt('UPDATE tasks SET state = ? WHERE id = ?').run(state, id);
  }

  setTaskProvisional(id: number, provisional: boolean): void {
    this.#sql.stmt('UPDATE tasks SET provisional = ? WHERE id = ?').run(provisional ? 1 : 0, id);
  }

  singleCopiesOf(worker: string): SingleCopyRow[] {
    // Only batches still loading or running: a finished batch's copies are never re-checked, and
    // a worker's whole history must not be read each time it is caught.
    const pages = this.#sql.pages(STORE_PAGE, (after: number | undefined, page) => this.#sql.stmt(`SELECT t.id, t.wu_id, w.batch_id
      FROM tasks t JOIN work_units w ON w.id = t.wu_id JOIN batches b ON b.id = w.batch_id
      WHERE t.worker = ? AND t.id > ? AND t.provisional = 1 AND t.state = 'valid' AND w.state = 'validated' AND b.state IN ('loading', 'running')
      ORDER BY t.id LIMIT ?`).all(worker, after ?? 0, page) as SingleCopyRow[], (row) => row.id);
    return [...pages];
  }

  unvouchedSingleCopies(batchId: string): number[] {
    // Paged along the batch's units (seq), then task id.
    const pages = this.#sql.pages(STORE_PAGE, (after: { seq: number; id: number } | undefined, page) => this.#sql.stmt(`SELECT t.id, t.wu_id, w.seq
      FROM work_units w JOIN tasks t ON t.wu_id = w.id
      WHERE w.batch_id = @batch AND w.seq >= @seq AND (w.seq > @seq OR t.id > @id) AND w.state = 'validated' AND t.provisional = 1 AND t.state = 'valid'
      AND NOT EXISTS (SELECT 1 FROM tasks v WHERE v.worker = t.worker AND v.provisional = 0 AND v.state = 'valid' AND v.id > t.id)
      ORDER BY w.seq, t.id LIMIT @page`).all({ batch: batchId, seq: after?.seq ?? -1, id: after?.id ?? 0, page }) as { id: number; wu_id: number; seq: number }[],
    (row) => ({ seq: row.seq, id: row.id }));
    return Array.from(pages, (r) => r.wu_id);
  }
}

/** Where a page of leased tasks ends, in the order of the partial index `tasks_leased`. */
interface LeaseCursor {
  deadline: number;
  id: number;
}
const FIRST_LEASE: LeaseCursor = { deadline: Number.MIN_SAFE_INTEGER, id: 0 };
const leaseCursor = (row: { deadline: number; id: number }): LeaseCursor => ({ deadline: row.deadline, id: row.id });
