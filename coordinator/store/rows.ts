/**
 * The records the store reads and writes (`GridStore`, grid-store.ts): the row shapes of the
 * coordinator's tables (schema.ts), snake_case as they are stored. Times are ms since the epoch
 * (wall clock); blobs are Buffers. Any implementation returns these shapes.
 */
import type { StoredBatchState, TaskState, WorkUnitState } from '../states.js';

export interface BatchRow {
  id: string;
  kind: string;
  kind_version: string;
  code_hash: Buffer | null;
  params: string | null;
  policy: string;
  state: StoredBatchState;
  priority: number;
  total: number;
  validated: number;
  failed: number;
  tasks_issued: number;
  /** Of `validated`: units accepted on a single unchecked copy (adaptive), which may still be reopened. */
  provisional: number;
  created_at: number;
  finished_at: number | null;
  owner: string | null;
  artifact_type: string | null;
  artifact_name: string | null;
  summary: string | null;
  error: string | null;
}

export interface WorkUnitRow {
  id: number;
  batch_id: string;
  seq: number;
  input: Buffer;
  state: WorkUnitState;
  canonical_task: number | null;
  agreed: number;
  fail_reason: string | null;
}

export interface TaskRow {
  id: number;
  wu_id: number;
  worker: string;
  address: string;
  runtime: string;
  state: TaskState;
  provisional: number;
  issued_at: number;
  deadline: number;
  output: Buffer | null;
  digest: Buffer | null;
  error: string | null;
  cpu_ms: number | null;
}

export interface WorkerRow {
  key: string;
  runtime: string;
  address: string;
  first_seen: number;
  last_seen: number;
  valid: number;
  invalid: number;
  errors: number;
  timeouts: number;
  consecutive_valid: number;
  tasks_done: number;
  cpu_ms: number;
}

export interface ResultRow {
  seq: number;
  state: WorkUnitState;
  agreed: number;
  fail_reason: string | null;
  input: Buffer;
  output: Buffer | null;
  worker: string | null;
}

/** One line of a batch's results stream (`GridStore.outcomes`). */
export interface OutcomeRow {
  seq: number;
  state: WorkUnitState;
  agreed: number;
  fail_reason: string | null;
  output: Buffer | null;
  /** 1 when the canonical result is a single unchecked copy (adaptive replication). */
  provisional: number | null;
}

/** What `insertBatch` stores; the counters start at 0 and `created_at` is now. */
export type NewBatchRow = Pick<BatchRow, 'id' | 'kind' | 'kind_version' | 'params' | 'policy' | 'state' | 'priority' | 'owner'> & { code_hash: Buffer | null };

/** Where a page of `listBatches` ends: the next page starts after this row (newest first). */
export interface BatchCursor {
  created_at: number;
  id: string;
}

/** A stored batch's artifact (the reducer's output). */
export interface ArtifactRow {
  artifact: Buffer;
  artifact_type: string;
  artifact_name: string;
}

/** A pending work unit as the feeder loads it; `started` is 1 when it already had tasks (reopened, or after a restart). */
export interface PendingUnitRow {
  id: number;
  seq: number;
  input: Buffer;
  started: number;
}

/** A task out at a worker, with its batch: what a restart recovers leases from. */
export type LeasedTaskRow = Pick<TaskRow, 'id' | 'wu_id' | 'worker' | 'address' | 'issued_at' | 'deadline'> & { batch_id: string };

/** A single unchecked copy (adaptive replication) accepted as a unit's result. */
export interface SingleCopyRow {
  id: number;
  wu_id: number;
  batch_id: string;
}

/**
 * A worker's reputation events of one tick, summed (reputation.ts builds it): added to its row
 * by `bumpWorker`. `reset` says an invalid result (or a caught sibling) ended its run of valid
 * results in this tick; `validSinceReset` are the valid ones after that.
 */
export interface WorkerTallyRow {
  readonly valid: number;
  readonly invalid: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly tasksDone: number;
  readonly cpuMs: number;
  readonly validSinceReset: number;
  readonly reset: boolean;
}

/** A bearer token, stored only as its SHA-256 hash (hex). */
export interface TokenRow {
  hash: string;
  name: string;
  role: 'submitter' | 'operator' | 'volunteer';
  created_at: number;
}

/** A custom job kind's signed code bundle (`swarmgrid kind add`). */
export interface KindRow {
  name: string;
  version: string;
  code_hash: Buffer;
  code: Buffer;
  signature: Buffer;
  added_at: number;
}

/** An Idempotency-Key's submission, with its batch's state (null when the batch is gone). */
export interface SubmissionRow {
  batch_id: string;
  body_hash: string | null;
  state: StoredBatchState | null;
}
