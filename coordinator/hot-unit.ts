/**
 * A work unit the scheduler is working on, held in memory from the moment the feeder loads it
 * until it is decided. Everything here can be rebuilt from the store (`hydrateUnit`), which is
 * how a restarted coordinator picks up where it was killed.
 */
import { createHash } from 'node:crypto';
import type { GridStore, TaskRow } from './store/index.js';
import type { Tally, Vote } from './validator.js';

export interface HotUnit {
  id: number;
  batchId: string;
  seq: number;
  input: Uint8Array;
  /** Tasks decided but not issued yet. */
  want: number;
  /** Tasks ever issued. */
  issued: number;
  /** Networks whose task of this unit threw: one network's errors count once toward maxErrors. */
  errorNetworks: Set<string>;
  /**
   * Networks whose task of this unit outran its lease (validator.ts MAX_LOST_NETWORKS). Kept in
   * memory only: a restarted coordinator starts counting again, never failing a unit early.
   */
  lostNetworks: Set<string>;
  /** Quorum for this unit: the batch's, or 1 for an adaptive single copy. */
  quorum: number;
  outstanding: Set<number>;
  workers: Set<string>;
  /** Networks that hold or held a task of this unit (networks.ts): never two tasks to one. */
  networks: Set<string>;
  /**
   * Networks that handed a task of this unit back unrun, and when (monotonic ms): other networks get it
   * first, so that handing back and taking again cannot hold a unit forever.
   */
  returnedBy?: Map<string, number>;
  votes: Vote[];
  /** Tasks whose result or error is in: a second copy of one (a resend, a replay) is ignored. */
  settled: Set<number>;
  /** Adaptive replication: the task issued as a single unchecked copy, if any (tasks.provisional). */
  provisionalTask?: number;
  /** Whether the unit is queued in its batch's ready list. */
  queued: boolean;
  done: boolean;
}

export function newUnit(id: number, batchId: string, seq: number, input: Uint8Array, want: number, quorum: number): HotUnit {
  return {
    id, batchId, seq, input, want, quorum,
    issued: 0, errorNetworks: new Set(), lostNetworks: new Set(),
    outstanding: new Set(), workers: new Set(), networks: new Set(), votes: [], settled: new Set(),
    queued: false, done: false,
  };
}

export function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The network of a task's worker, from the address and identity stored with the task (networks.ts). */
export type NetworkOf = (address: string, worker: string) => string;

/** Rebuilds a pending unit and its tasks from the store. `want` is left 0: the validator decides. */
export function hydrateUnit(store: GridStore, id: number, quorum: number, networkOf: NetworkOf): HotUnit | undefined {
  const row = store.getWorkUnit(id);
  if (!row || row.state !== 'pending') return undefined;
  const unit = newUnit(row.id, row.batch_id, row.seq, row.input, 0, quorum);
  for (const task of store.tasksOf(id)) applyTaskRow(unit, task, networkOf(task.address, task.worker));
  return unit;
}

function applyTaskRow(unit: HotUnit, task: TaskRow, network: string): void {
  // Handed back unrun (Goodbye, pause): not an attempt, and no bar on that worker (scheduler.abandon).
  if (task.state === 'abandoned') return;
  unit.issued++;
  unit.workers.add(task.worker);
  unit.networks.add(network);
  if (task.provisional) unit.provisionalTask = task.id;
  switch (task.state) {
    case 'leased':
      unit.outstanding.add(task.id);
      break;
    case 'returned':
    case 'valid':
      unit.settled.add(task.id);
      if (task.output && task.digest) {
        unit.votes.push({ taskId: task.id, worker: task.worker, network, cpuMs: task.cpu_ms ?? 0, digest: task.digest.toString('hex'), output: task.output });
      }
      break;
    case 'invalid':
      unit.settled.add(task.id);
      break;
    case 'error':
      unit.settled.add(task.id);
      unit.errorNetworks.add(network);
      break;
    default:
      break;
  }
}

export function tallyOf(unit: HotUnit): Tally {
  return { votes: unit.votes, errors: unit.errorNetworks.size, lost: unit.lostNetworks.size, issued: unit.issued, outstanding: unit.outstanding.size, want: unit.want };
}
