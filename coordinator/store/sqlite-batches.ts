/** Batches in SQLite (table `batches`): the BatchStore part of SqliteStore. */
import type { StoredBatchState } from '../states.js';
import { type BatchStore, STORE_PAGE } from './grid-store.js';
import type { ArtifactRow, BatchCursor, BatchRow, NewBatchRow } from './rows.js';
import { blob, type SqliteDb } from './sqlite-db.js';

/** Every column but the artifact's bytes (read alone, by getArtifact). */
const COLUMNS = `id, kind, kind_version, code_hash, params, policy, state, priority, total, validated, failed,
  tasks_issued, provisional, created_at, finished_at, owner, artifact_type, artifact_name, summary, error`;

export class SqliteBatches implements BatchStore {
  #sql: SqliteDb;

  constructor(sql: SqliteDb) {
    this.#sql = sql;
  }

  insertBatch(row: NewBatchRow): void {
    this.#sql.stmt(`INSERT INTO batches (id, kind, kind_version, code_hash, params, policy, state, priority, owner, created_at)
      VALUES (@id, @kind, @kind_version, @code_hash, @params, @policy, @state, @priority, @owner, @created_at)`).run({ ...row, created_at: Date.now() });
  }

  getBatch(id: string): BatchRow | undefined {
    return this.#sql.stmt(`SELECT ${COLUMNS} FROM batches WHERE id = ?`).get(id) as BatchRow | undefined;
  }

  batchIdsStartingWith(prefix: string, limit: number): string[] {
    // A range on the primary key, not LIKE (case-insensitive, so no index): hex digits sort below 'g'.
    return (this.#sql.stmt(`SELECT id FROM batches WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`).all(prefix, `${prefix}g`, limit) as { id: string }[]).map((r) => r.id);
  }

  listBatches(limit = 100, states?: readonly StoredBatchState[], before?: BatchCursor): BatchRow[] {
    // One cached statement per number of states (there are five) and cursor or not.
    const params: Record<string, unknown> = { limit };
    states?.forEach((s, i) => (params[`s${i}`] = s));
    const inStates = states ? `state IN (${states.map((_, i) => `@s${i}`).join(', ')})` : '1';
    if (before) Object.assign(params, { created_at: before.created_at, id: before.id });
    const after = before ? '(created_at < @created_at OR (created_at = @created_at AND id < @id))' : '1';
    return this.#sql.stmt(`SELECT ${COLUMNS} FROM batches WHERE ${inStates} AND ${after}
      ORDER BY created_at DESC, id DESC LIMIT @limit`).all(params) as BatchRow[];
  }

  batchesInState(...states: StoredBatchState[]): Iterable<BatchRow> {
    return this.#sql.pages(STORE_PAGE, (before: BatchCursor | undefined, page) => this.listBatches(page, states, before), (row) => ({ created_at: row.created_at, id: row.id }));
  }

  batchCountsByState(): { state: StoredBatchState; n: number }[] {
    return this.#sql.stmt('SELECT state, count(*) AS n FROM batches GROUP BY state').all() as { state: StoredBatchState; n: number }[];
  }

  setBatchState(id: string, state: StoredBatchState, error: string | null = null): void {
    const finished = state === 'completed' || state === 'failed' || state === 'cancelled' ? Date.now() : null;
    this.#sql.stmt('UPDATE batches SET state = ?, finished_at = ?, error = COALESCE(?, error) WHERE id = ?').run(state, finished, error, id);
  }

  setBatchError(id: string, error: string | null): void {
    this.#sql.stmt('UPDATE batches SET error = ? WHERE id = ?').run(error, id);
  }

  setBatchTotal(id: string, total: number): void {
    this.#sql.stmt('UPDATE batches SET total = ? WHERE id = ?').run(total, id);
  }

  bumpBatchCounts(id: string, validated: number, failed: number, issued: number): void {
    this.#sql.stmt('UPDATE batches SET validated = validated + ?, failed = failed + ?, tasks_issued = tasks_issued + ? WHERE id = ?').run(validated, failed, issued, id);
  }

  bumpProvisional(id: string, n: number): void {
    this.#sql.stmt('UPDATE batches SET provisional = provisional + ? WHERE id = ?').run(n, id);
  }

  setArtifact(id: string, artifact: { bytes: Uint8Array; contentType: string; fileName: string; summary: string }): void {
    this.#sql.stmt('UPDATE batches SET artifact = ?, artifact_type = ?, artifact_name = ?, summary = ? WHERE id = ?')
      .run(blob(artifact.bytes), artifact.contentType, artifact.fileName, artifact.summary, id);
  }

  getArtifact(id: string): ArtifactRow | undefined {
    return this.#sql.stmt('SELECT artifact, artifact_type, artifact_name FROM batches WHERE id = ? AND artifact IS NOT NULL').get(id) as ArtifactRow | undefined;
  }

  deleteBatch(id: string): void {
    this.#sql.transaction(() => {
      this.#sql.stmt('DELETE FROM tasks WHERE wu_id IN (SELECT id FROM work_units WHERE batch_id = ?)').run(id);
      this.#sql.stmt('DELETE FROM work_units WHERE batch_id = ?').run(id);
      this.#sql.stmt('DELETE FROM batches WHERE id = ?').run(id);
      this.#sql.stmt('DELETE FROM submissions WHERE batch_id = ?').run(id);
    });
  }
}
