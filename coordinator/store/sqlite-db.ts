/**
 * What the SQLite parts of the store share: the connection, its cache of prepared statements
 * (each SQL text is prepared once, on first use), and transactions that throw disk faults coded.
 */
import type Database from 'better-sqlite3';
import { storageError } from '../storage-errors.js';

/** better-sqlite3 binds Buffers, not plain Uint8Arrays: wrap without copying. */
export function blob(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null) return null;
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class SqliteDb {
  readonly db: Database.Database;
  /** The database file, for error messages. */
  readonly path: string;
  #stmts = new Map<string, Database.Statement>();

  constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
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

  /**
   * Runs `fn` in its own transaction, now (nested in the caller's when there is one). A disk
   * fault is thrown coded (GRID_ERR_STORAGE_FULL…), with nothing of `fn` stored.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      throw storageError(err, this.path);
    }
  }

  /**
   * All rows of a keyset-paged query, `page` at a time: `read(after, page)` returns the rows
   * after the cursor `after` (undefined: from the start) in the query's order.
   */
  *pages<R, C>(page: number, read: (after: C | undefined, page: number) => R[], cursorOf: (row: R) => C): Generator<R> {
    let after: C | undefined;
    for (;;) {
      const rows = read(after, page);
      yield* rows;
      if (rows.length < page) return;
      after = cursorOf(rows[rows.length - 1]!);
    }
  }
}
