/**
 * One coordinator per data directory. Two coordinators on one store would hand out the same task
 * ids and the same identity key, so the second one must refuse to start.
 *
 * The lock is an exclusive SQLite lock held on DATA/coordinator.lock for the life of the process,
 * not a pid file: the operating system drops it when the process dies, even by `kill -9`, so a
 * crashed coordinator never leaves a stale lock behind and a restart on the same `--data` just
 * works. Other tools (`swarmgrid token create`, `swarmgrid kind add`) open the store itself, not
 * the lock, and so still work while the coordinator runs.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CoordinatorErrors } from '../errors.js';

export class DataDirLock {
  readonly path: string;
  #db: Database.Database | null;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
  }

  /** Takes the lock or throws GRID_ERR_STORE_LOCKED at once (no waiting). */
  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, 'coordinator.lock');
    const db = new Database(path, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // An exclusive transaction that is never committed: the lock lives as long as the connection.
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw CoordinatorErrors.STORE_LOCKED(dataDir);
      throw err;
    }
    return new DataDirLock(path, db);
  }

  /** Idempotent. */
  release(): void {
    this.#db?.close();
    this.#db = null;
  }
}
