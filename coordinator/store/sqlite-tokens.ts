/** Bearer tokens in SQLite (table `tokens`), by hash: the TokenStore part of SqliteStore. */
import { STORE_PAGE, type TokenStore } from './grid-store.js';
import type { TokenRow } from './rows.js';
import type { SqliteDb } from './sqlite-db.js';

export class SqliteTokens implements TokenStore {
  #sql: SqliteDb;

  constructor(sql: SqliteDb) {
    this.#sql = sql;
  }

  insertToken(row: TokenRow): void {
    this.#sql.stmt('INSERT INTO tokens (hash, name, role, created_at) VALUES (?, ?, ?, ?)').run(row.hash, row.name, row.role, row.created_at);
  }

  getToken(hash: string): TokenRow | undefined {
    return this.#sql.stmt('SELECT hash, name, role, created_at FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
  }

  tokens(): Iterable<TokenRow> {
    return this.#sql.pages(STORE_PAGE, (after: { created_at: number; hash: string } | undefined, page) => this.#sql.stmt(`SELECT hash, name, role, created_at FROM tokens
      WHERE created_at >= @created_at AND (created_at > @created_at OR hash > @hash) ORDER BY created_at, hash LIMIT @page`)
      .all({ created_at: after?.created_at ?? Number.MIN_SAFE_INTEGER, hash: after?.hash ?? '', page }) as TokenRow[], (row) => ({ created_at: row.created_at, hash: row.hash }));
  }

  tokensWithHashPrefix(prefix: string, limit: number): TokenRow[] {
    // A range on the primary key (hashes are lowercase hex, which sorts below 'g'), not a scan.
    return this.#sql.stmt('SELECT hash, name, role, created_at FROM tokens WHERE hash >= ? AND hash < ? ORDER BY hash LIMIT ?')
      .all(prefix, `${prefix}g`, limit) as TokenRow[];
  }

  deleteToken(hash: string): void {
    this.#sql.stmt('DELETE FROM tokens WHERE hash = ?').run(hash);
  }
}
