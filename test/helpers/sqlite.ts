/** Read-only access to a coordinator's SQLite file, to assert on its records directly. */
import { join } from 'node:path';
import Database from 'better-sqlite3';

export function openStore(dataDir: string): Database.Database {
  return new Database(join(dataDir, 'coordinator.sqlite'), { readonly: true, fileMustExist: true });
}
