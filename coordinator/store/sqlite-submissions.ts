/** Idempotency keys of submissions in SQLite (table `submissions`): the SubmissionStore part of SqliteStore. */
import type { SubmissionStore } from './grid-store.js';
import type { SubmissionRow } from './rows.js';
import type { SqliteDb } from './sqlite-db.js';

export class SqliteSubmissions implements SubmissionStore {
  #sql: SqliteDb;

  constructor(sql: SqliteDb) {
    this.#sql = sql;
  }

  findSubmission(owner: string, key: string): SubmissionRow | undefined {
    return this.#sql.stmt(`SELECT s.batch_id, s.body_hash, b.state FROM submissions s LEFT JOIN batches b ON b.id = s.batch_id
      WHERE s.owner = ? AND s.idem_key = ?`).get(owner, key) as SubmissionRow | undefined;
  }

  insertSubmission(batchId: string, owner: string, key: string): void {
    this.#sql.stmt('INSERT INTO submissions (batch_id, owner, idem_key) VALUES (?, ?, ?)').run(batchId, owner, key);
  }

  setSubmissionBodyHash(batchId: string, bodyHash: string): void {
    this.#sql.stmt('UPDATE submissions SET body_hash = ? WHERE batch_id = ?').run(bodyHash, batchId);
  }

  deleteSubmission(batchId: string): void {
    this.#sql.stmt('DELETE FROM submissions WHERE batch_id = ?').run(batchId);
  }
}
