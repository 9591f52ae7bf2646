/** Opening a coordinator's data directory from the commands that edit it (token, kind). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinatorErrors } from '../../coordinator/errors.js';
import { type GridStore, SqliteStore } from '../../coordinator/store/index.js';
import type { OptionSpec } from '../cli.js';

export const initOption: Record<string, OptionSpec> = {
  init: { type: 'boolean', description: 'create the coordinator store in --data DIR if it holds none (a grid set up before its first start)' },
};

/**
 * The store in `dir`. A directory without one is refused unless `init`: a mistyped `--data
 * ./cord` used to get a new empty store (tokens no coordinator would know), and `list` a new
 * directory, with exit status 0. Throws GRID_ERR_NO_STORE (400).
 */
export function openStoreDir(dir: string, init: boolean): GridStore {
  if (!init && !existsSync(join(dir, 'coordinator.sqlite'))) {
    throw CoordinatorErrors.NO_STORE(dir, existsSync(dir) ? 'holds no coordinator store' : 'does not exist', dir);
  }
  return new SqliteStore({ dataDir: dir });
}
