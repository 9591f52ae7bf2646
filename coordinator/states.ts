/**
 * Lifecycles of batches, work units and tasks, with every allowed transition in one place.
 * The store refuses nothing itself; the scheduler asserts transitions through `assertTransition`.
 */
export type BatchState = 'loading' | 'running' | 'completed' | 'failed' | 'cancelled';
export type WorkUnitState = 'pending' | 'validated' | 'failed' | 'cancelled';
/**
 * leased: out at a worker; returned: result in, awaiting quorum; valid/invalid: judged by the
 * validator; error: the task threw; expired: lease ran out; abandoned: handed back (Goodbye,
 * Decline); cancelled: withdrawn (batch cancelled, quorum reached without it).
 */
export type TaskState = 'leased' | 'returned' | 'valid' | 'invalid' | 'error' | 'expired' | 'abandoned' | 'cancelled';

const taskTransitions: Record<TaskState, readonly TaskState[]> = {
  leased: ['returned', 'error', 'expired', 'abandoned', 'cancelled'],
  // A late result for an expired task still counts if its work unit is undecided.
  expired: ['returned', 'error'],
  returned: ['valid', 'invalid', 'cancelled'],
  // Adaptive replication: a provisionally valid single copy is re-judged when its worker is caught.
  valid: ['invalid'],
  invalid: [],
  error: [],
  abandoned: [],
  cancelled: [],
};

const batchTransitions: Record<BatchState, readonly BatchState[]> = {
  loading: ['running', 'cancelled', 'failed'],
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function canTransitionTask(from: TaskState, to: TaskState): boolean {
  return taskTransitions[from].includes(to);
}

export function canTransitionBatch(from: BatchState, to: BatchState): boolean {
  return batchTransitions[from].includes(to);
}

export function isFinalBatchState(state: BatchState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}
