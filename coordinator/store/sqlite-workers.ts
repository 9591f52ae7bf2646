/** Workers and their reputation in SQLite (table `workers`): the WorkerStore part of SqliteStore. */
import type { WorkerStore } from './grid-store.js';
import type { WorkerRow, WorkerTallyRow } from './rows.js';
import type { SqliteDb } from './sqlite-db.js';

export class SqliteWorkers implements WorkerStore {
  #sql: SqliteDb;

  constructor(sql: SqliteDb) {
    this.#sql = sql;
  }

  touchWorker(key: string, runtime: string, address: string): void {
    const now = Date.now();
    this.#sql.stmt(`INSERT INTO workers (key, runtime, address, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET runtime = excluded.runtime, address = excluded.address, last_seen = excluded.last_seen`)
      .run(key, runtime, address, now, now);
  }

  getWorker(key: string): WorkerRow | undefined {
    return this.#sql.stmt('SELECT * FROM workers WHERE key = ?').get(key) as WorkerRow | undefined;
  }

  listWorkers(limit = 1000): WorkerRow[] {
    return this.#sql.stmt('SELECT * FROM workers ORDER BY last_seen DESC LIMIT ?').all(limit) as WorkerRow[];
  }

  bumpWorker(key: string, t: WorkerTallyRow): void {
    this.#sql.stmt(`UPDATE workers SET valid = valid + ?, invalid = invalid + ?, errors = errors + ?, timeouts = timeouts + ?,
      tasks_done = tasks_done + ?, cpu_ms = cpu_ms + ?,
      consecutive_valid = CASE WHEN ? THEN ? ELSE consecutive_valid + ? END WHERE key = ?`)
      .run(t.valid, t.invalid, t.errors, t.timeouts, t.tasksDone, t.cpuMs, t.reset ? 1 : 0, t.validSinceReset, t.validSinceReset, key);
  }
}
