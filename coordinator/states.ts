/**
 * Lifecycles of batches, work units and tasks: the one list of each state, which the store's
 * columns, the API's schemas (coordinator/http/shapes.ts) and the client's types all take.
 *
 * A batch's moves are asserted here (`assertBatchTransition`), by its one writer, the batch's
 * ledger (batch-ledger.ts). Units and tasks, for readers:
 * - task: leased → returned | error | expired | abandoned | cancelled; expired → returned | error
 *   (a late result still counts while its unit is undecided); returned → valid | invalid |
 *   cancelled; valid → invalid (adaptive replication: a provisionally valid single copy is
 *   judged again when its worker is caught).
 */

/**
 * Every state a batch is in. `stalled`: running, but not scheduled (its job kind is missing on
 * this coordinator; it resumes at a restart that finds the kind). `finishing`: every unit is
 * decided, and its reducer runs and its artifact is stored; the outcome (`completed` or `failed`)
 * is stored with the artifact.
 */
export const BATCH_STATES = ['loading', 'running', 'stalled', 'finishing', 'completed', 'failed', 'cancelled'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/**
 * A batch as the store records it (`batches.state`): `stalled` and `finishing` are stored as
 * `running` (a stalled one with its `stalled: …` note in `error`), so that rows of every version
 * read alike and a restart decides both again.
 */
export const STORED_BATCH_STATES = ['loading', 'running', 'completed', 'failed', 'cancelled'] as const;
export type StoredBatchState = (typeof STORED_BATCH_STATES)[number];

/** A batch as the API shows it: a stalled batch shows as `running`, with its note in `error`. */
export const BATCH_VIEW_STATES = ['loading', 'running', 'finishing', 'completed', 'failed', 'cancelled'] as const;
export type BatchViewState = (typeof BATCH_VIEW_STATES)[number];

export type FinalBatchState = 'completed' | 'failed' | 'cancelled';

/** States a batch never leaves. */
export const FINAL_BATCH_STATES: ReadonlySet<string> = new Set<FinalBatchState>(['completed', 'failed', 'cancelled']);

export function isFinalBatchState(state: string): boolean {
  return FINAL_BATCH_STATES.has(state);
}

/**
 * The moves a batch may make. A batch starts `loading` (submitted) or, at a restart, `running`;
 * one whose submission is rejected or interrupted is deleted, not moved. `running → stalled` only
 * at a restart that finds its kind missing; a stalled batch runs again only at a later restart.
 */
export const BATCH_TRANSITIONS: Readonly<Record<BatchState, readonly BatchState[]>> = {
  loading: ['running', 'cancelled'],
  running: ['finishing', 'stalled', 'cancelled'],
  stalled: ['cancelled'],
  finishing: ['completed', 'failed'],
  completed: [],
  failed: [],
  cancelled: [],
};

/** Throws unless a batch may move from `from` to `to` (a fault of the coordinator, never of input). */
export function assertBatchTransition(batchId: string, from: BatchState, to: BatchState): void {
  if (!BATCH_TRANSITIONS[from].includes(to)) throw new Error(`batch ${batchId}: illegal transition ${from} → ${to}`);
}

/** The row's state for a batch in `state`. */
export function storedBatchState(state: BatchState): StoredBatchState {
  return state === 'stalled' || state === 'finishing' ? 'running' : state;
}

/** The API's state for a batch in `state`. */
export function batchViewState(state: BatchState): BatchViewState {
  return state === 'stalled' ? 'running' : state;
}

export type WorkUnitState = 'pending' | 'validated' | 'failed' | 'cancelled';
/**
 * leased: out at a worker; returned: result in, awaiting quorum; valid/invalid: judged by the
 * validator; error: the task threw; expired: lease ran out; abandoned: handed back (Goodbye,
 * Decline); cancelled: withdrawn (batch cancelled, quorum reached without it).
 */
export type TaskState = 'leased' | 'returned' | 'valid' | 'invalid' | 'error' | 'expired' | 'abandoned' | 'cancelled';
