/**
 * Direct access to a coordinator's SQLite file, for tests only: the coordinator itself reaches
 * its records through the GridStore's named operations (coordinator/store/), never SQL.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A read-only connection to the store in `dataDir`, to assert on its records directly. Close it. */
export function openStore(dataDir: string): Database.Database {
  return new Database(join(dataDir, 'coordinator.sqlite'), { readonly: true, fileMustExist: true });
}

/**
 * One read through its own read-only connection, closed after: what a test asserts on. It sees
 * what the store has committed (flush an in-process store first).
 */
export function readStore<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = openStore(dataDir);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/**
 * Changes the store's file behind the coordinator's back, through a connection of its own: what
 * a crash, an operator or an older version would have left (a batch's kind gone, leases issued
 * long ago). Runs `sql` once with `args`.
 */
export function tamperStore(dataDir: string, sql: string, ...args: unknown[]): void {
  const db = new Database(join(dataDir, 'coordinator.sqlite'), { fileMustExist: true, timeout: 5000 });
  try {
    db.prepare(sql).run(...args);
  } finally {
    db.close();
  }
}
