/**
 * The coordinator's store, its public face: the `GridStore` interface the coordinator's modules
 * hold, the records it returns, and `SqliteStore`, its SQLite implementation (constructed in
 * coordinator.ts, and by the CLI's token and kind commands). No SQL outside this folder.
 */
export { type GridStore, STORE_PAGE } from './grid-store.js';
export type * from './rows.js';
export { SCHEMA_VERSION } from './schema.js';
export { SqliteStore, type StoreOptions } from './sqlite-store.js';
