/**
 * The feeder: loads the next chunk of a batch's pending work units from the store into memory.
 * One query per chunk, inputs included: only units that already had tasks (after a restart, or
 * reopened) are rebuilt from their task rows. (Two point queries per unit were a sixth of the
 * coordinator's CPU per task on the echo benchmark, BENCHMARKS.md.)
 */
import type { BatchLedger } from './batch-ledger.js';
import { type HotUnit, hydrateUnit, type NetworkOf, newUnit } from './hot-unit.js';
import type { GridStore } from './store/index.js';

/**
 * Units past the batch's cursor, which it advances; sets `exhausted` when the store has no more.
 * Units already hot, or for which `skip` says so, are left out.
 */
export function nextChunk(store: GridStore, batch: BatchLedger, limit: number, skip: (wuId: number) => boolean, networkOf: NetworkOf): HotUnit[] {
  const rows = store.pendingWorkUnits(batch.id, batch.cursor, limit);
  if (rows.length < limit) batch.exhausted = true;
  const units: HotUnit[] = [];
  for (const row of rows) {
    batch.cursor = row.id;
    if (batch.hot.has(row.id) || skip(row.id)) continue;
    const unit = row.started
      ? hydrateUnit(store, row.id, batch.policy.quorum, networkOf)
      : newUnit(row.id, batch.id, row.seq, row.input, 0, batch.policy.quorum);
    if (unit) units.push(unit);
  }
  return units;
}
