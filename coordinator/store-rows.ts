/** Row shapes of the coordinator's SQLite tables (see schema.ts), as better-sqlite3 returns them. */
import type { StoredBatchState, TaskState, WorkUnitState } from './states.js';

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

/** One line of a batch's results stream (`Store.outcomes`). */
export interface OutcomeRow {
  seq: number;
  state: WorkUnitState;
  agreed: number;
  fail_reason: string | null;
  output: Buffer | null;
  /** 1 when the canonical result is a single unchecked copy (adaptive replication). */
  provisional: number | null;
}
