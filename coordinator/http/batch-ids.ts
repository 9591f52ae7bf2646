/**
 * Batch ids as people type them: the full 16 hex digits, or a unique prefix of at least
 * MIN_BATCH_ID_PREFIX of them, as the volunteer page and other short displays show them.
 */
import { CoordinatorErrors } from '../errors.js';
import type { GridStore } from '../store/index.js';

/** Shortest prefix accepted: 6 hex digits (16.7 million values) make a clash rare on any grid's batch list. */
export const MIN_BATCH_ID_PREFIX = 6;
/** Candidates named in GRID_ERR_BATCH_ID_AMBIGUOUS. */
const SHOWN = 5;

/**
 * The full id `id` names: itself when a batch has it, else the one batch whose id starts with it;
 * undefined when none does (the route's 404). Throws GRID_ERR_BATCH_ID_AMBIGUOUS (400) when
 * several do, naming them, and GRID_ERR_BATCH_ID_TOO_SHORT (400) for a prefix under the minimum.
 */
export function resolveBatchId(store: GridStore, id: string): string | undefined {
  if (store.getBatch(id)) return id;
  const prefix = id.toLowerCase();
  if (!/^[0-9a-f]+$/.test(prefix) || prefix.length >= 16) return undefined;
  if (prefix.length < MIN_BATCH_ID_PREFIX) throw CoordinatorErrors.BATCH_ID_TOO_SHORT(id, MIN_BATCH_ID_PREFIX);
  const ids = store.batchIdsStartingWith(prefix, SHOWN + 1);
  if (ids.length <= 1) return ids[0];
  const named = ids.slice(0, SHOWN).join(', ') + (ids.length > SHOWN ? ', …' : '');
  throw CoordinatorErrors.BATCH_ID_AMBIGUOUS(id, named);
}
