/**
 * The assimilator: when every work unit of a batch is decided, folds the canonical results in
 * work-unit order through the kind's reducer into the batch's artifact, in chunks so the event
 * loop keeps serving workers while a million results stream through.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { decodeInput, decodeOutput } from '../jobs/codec.js';
import type { Artifact, Json } from '../jobs/types.js';
import type { BatchLedger } from './batch-ledger.js';
import type { GridStore } from './store/index.js';

const CHUNK = 2000;

export async function reduceBatch(store: GridStore, batch: BatchLedger, params: Json | undefined): Promise<Artifact | undefined> {
  const reducer = batch.kind.reducer;
  if (!reducer) return undefined;
  let acc = reducer.init(params, batch.total);
  let after = -1;
  for (;;) {
    const rows = store.results(batch.id, after, CHUNK);
    for (const row of rows) {
      after = row.seq;
      if (row.state !== 'validated' || !row.output) continue;
      acc = reducer.add(acc, decodeOutput(batch.kind, row.output), decodeInput(row.input), row.seq);
    }
    if (rows.length < CHUNK) break;
    await yieldToLoop();
  }
  return reducer.finish(acc);
}
