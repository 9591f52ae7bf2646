/**
 * Lifecycles of batches, work units and tasks: the one list of each state, which the store's
 * columns, the API's schemas (coordinator/http/shapes.ts) and the client's types all take.
 *
 * The moves a batch, unit or task may make, for readers; no code asserts them yet (the store
 * writes what the scheduler, verdicts.ts and batches.ts decide):
 * - batch: loading → running | cancelled | failed; running → completed | failed | cancelled.
 * - task: leased → returned | error | expired | abandoned | cancelled; expired → returned | error
 *   (a late result still counts while its unit is undecided); returned → valid | invalid |
 *   cancelled; valid → invalid (adaptive replication: a provisionally valid single copy is
 *   judged again when its worker is caught).
 */

/** A batch as the store records it. */
export const BATCH_STATES = ['loading', 'running', 'completed', 'failed', 'cancelled'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/**
 * A batch as the API shows it: the stored states, and `finishing` for a batch stored as running
 * whose every unit is decided while its reducer runs and its artifact is stored.
 */
export const BATCH_VIEW_STATES = ['loading', 'running', 'finishing', 'completed', 'failed', 'cancelled'] as const;

/** States a batch never leaves. */
export const FINAL_BATCH_STATES: ReadonlySet<string> = new Set<BatchState>(['completed', 'failed', 'cancelled']);

export function isFinalBatchState(state: string): boolean {
  return FINAL_BATCH_STATES.has(state);
}

export type WorkUnitState = 'pending' | 'validated' | 'failed' | 'cancelled';
/**
 * leased: out at a worker; returned: result in, awaiting quorum; valid/invalid: judged by the
 * validator; error: the task threw; expired: lease ran out; abandoned: handed back (Goodbye,
 * Decline); cancelled: withdrawn (batch cancelled, quorum reached without it).
 */
export type TaskState = 'leased' | 'returned' | 'valid' | 'invalid' | 'error' | 'expired' | 'abandoned' | 'cancelled';
