/**
 * The coordinator's side of content-addressed blobs (proto/payloads.ts): inputs too big for a
 * frame go out as a hash, and the worker fetches them by task id. Nothing extra is stored: an
 * input is the work unit's row in SQLite (durable since submission), an output the task's row
 * once its result commits, so a restart loses no acknowledged payload.
 */
import { createHash } from 'node:crypto';
import type { Leases } from './leases.js';
import type { HotUnit } from './hot-unit.js';
import type { GridStore } from './store/index.js';
import type { WorkerHandle } from './worker-handle.js';

/** Hashes of inputs already hashed: a hot unit's input is one object for all its replicas. */
const hashes = new WeakMap<Uint8Array, Uint8Array>();

export function sha256(bytes: Uint8Array): Uint8Array {
  let hash = hashes.get(bytes);
  if (!hash) {
    hash = new Uint8Array(createHash('sha256').update(bytes).digest());
    hashes.set(bytes, hash);
  }
  return hash;
}

/**
 * The input of a task leased to `worker`, or undefined (not its task, expired, or unknown). From
 * the hot unit when loaded, else from the store (after a restart the worker may still fetch).
 * Called through Scheduler.taskInput.
 */
export function taskInput(store: GridStore, leases: Leases, hotUnit: (batchId: string, wuId: number) => HotUnit | undefined,
  worker: WorkerHandle, taskId: number): Uint8Array | undefined {
  const lease = leases.get(taskId);
  if (lease) {
    if (lease.worker !== worker.key) return undefined;
    const hot = hotUnit(lease.batchId, lease.wuId);
    if (hot) return hot.input;
    return store.getWorkUnit(lease.wuId)?.input;
  }
  // An expired lease still counts if its result comes late: its worker may still be fetching.
  const task = store.getTask(taskId);
  if (!task || task.worker !== worker.key) return undefined;
  return store.getWorkUnit(task.wu_id)?.input;
}
