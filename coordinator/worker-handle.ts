import type { swarmgrid } from '../proto/codec.js';

/** What the scheduler needs from a connected worker's session (node or browser alike). */
export interface WorkerHandle {
  readonly key: string;
  readonly address: string;
  readonly runtime: 'node' | 'browser';
  /** Task threads (Web Workers in a browser) the worker runs, as its Hello said. */
  readonly threads: number;
  /** Tasks the worker has asked for and not yet received. */
  credit: number;
  /** Whether the worker can run this kind (built in, or custom and trusted, and not declined). */
  canRun(kind: string, version: string, custom: boolean, wasm?: boolean): boolean;
  sendTasks(tasks: swarmgrid.ITask[]): void;
  sendCancel(taskIds: number[], reason: string): void;
}
