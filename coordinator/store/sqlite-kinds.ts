/**
 * Custom kinds' bundles and volunteers' declines of them in SQLite (tables `kinds`, `declines`):
 * the KindStore part of SqliteStore.
 */
import type { KindStore } from './grid-store.js';
import type { KindRow } from './rows.js';
import type { SqliteDb } from './sqlite-db.js';

/** Kinds per query when reading them all: a bundle is up to 4 MiB (code-bundles.ts). */
const KIND_PAGE = 16;

export class SqliteKinds implements KindStore {
  #sql: SqliteDb;

  constructor(sql: SqliteDb) {
    this.#sql = sql;
  }

  putKind(row: KindRow): void {
    this.#sql.stmt(`INSERT INTO kinds (name, version, code_hash, code, signature, added_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET version = excluded.version, code_hash = excluded.code_hash, code = excluded.code,
      signature = excluded.signature, added_at = excluded.added_at`)
      .run(row.name, row.version, row.code_hash, row.code, row.signature, row.added_at);
  }

  getKind(name: string): KindRow | undefined {
    return this.#sql.stmt('SELECT * FROM kinds WHERE name = ?').get(name) as KindRow | undefined;
  }

  getKindHash(name: string): Buffer | undefined {
    return (this.#sql.stmt('SELECT code_hash FROM kinds WHERE name = ?').get(name) as { code_hash: Buffer } | undefined)?.code_hash;
  }

  kinds(): Iterable<KindRow> {
    return this.#sql.pages(KIND_PAGE, (after: string | undefined, page) => (after === undefined
      ? this.#sql.stmt('SELECT * FROM kinds ORDER BY name LIMIT ?').all(page)
      : this.#sql.stmt('SELECT * FROM kinds WHERE name > ? ORDER BY name LIMIT ?').all(after, page)) as KindRow[], (row) => row.name);
  }

  kindNames(): string[] {
    return (this.#sql.stmt('SELECT name FROM kinds ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }

  recordDecline(worker: string, kind: string, reason: string, at: number): void {
    this.#sql.stmt(`INSERT INTO declines (worker, kind, reason, at)
      SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM kinds WHERE name = ?)
      ON CONFLICT (worker, kind) DO UPDATE SET reason = excluded.reason, at = excluded.at`).run(worker, kind, reason.slice(0, 1000), at, kind);
  }

  forgetDeclinesOf(worker: string, reasonPrefix: string): void {
    this.#sql.stmt('DELETE FROM declines WHERE worker = ? AND reason LIKE ?').run(worker, `${reasonPrefix}%`);
  }

  declinedKinds(worker: string): string[] {
    return (this.#sql.stmt('SELECT kind FROM declines WHERE worker = ?').all(worker) as { kind: string }[]).map((r) => r.kind);
  }

  forgetDeclinesOfKind(kind: string): void {
    this.#sql.stmt('DELETE FROM declines WHERE kind = ?').run(kind);
  }

  latestDecline(kind: string): string | undefined {
    return (this.#sql.stmt('SELECT reason FROM declines WHERE kind = ? ORDER BY at DESC LIMIT 1').get(kind) as { reason: string } | undefined)?.reason;
  }
}
