/**
 * The Web Worker: runs one task at a time (the next one waiting in its queue) with the very same jobs/ code as a node worker's
 * Piscina thread (worker/task-thread.ts), so the grid can cross-check a browser's output against
 * a node's byte for byte. Called from the page through Comlink.
 */
import * as Comlink from 'comlink';
import { executeTask, executeWasmTask, type TaskOutcome } from '../jobs/execute-task.js';
import { getBuiltinKind } from '../jobs/registry.js';
import { TaskQueue } from './task-queue.js';

/** Errors come back as values, like worker/task-thread.ts: thrown errors lose their fields in transit. */
export type WorkerResult = TaskOutcome;

const api = {
  run(kindName: string, input: Uint8Array): WorkerResult {
    // Built-in kinds here: the page runs no JavaScript it did not ship with (docs/BROWSER.md);
    // custom code reaches it only as a sandboxed WASM kind (runWasm).
    // Browsers expose no thread CPU clock: wall time of a thread that does nothing else is close.
    return executeTask(getBuiltinKind(kindName), kindName, input);
  },

  /**
   * A WASM kind's task, with the same jobs/wasm-task.ts and WASI shim as a node worker's thread:
   * the module is sandboxed (docs/SECURITY.md), so the page runs it as it runs its own kinds.
   * `bundle` was checked against `codeHash` by the agent.
   */
  async runWasm(kindName: string, input: Uint8Array, codeHash: Uint8Array, bundle: Uint8Array, memoryMb: number): Promise<WorkerResult> {
    return executeWasmTask({ kind: kindName, codeHash, bundle: () => bundle, input, memoryMb });
  },
};

/** One task as the pool sends it: a built-in kind's, or a WASM kind's with its verified bundle. */
export interface TaskCall {
  kind: string;
  input: Uint8Array;
  wasm?: { codeHash: Uint8Array; bundle: Uint8Array; memoryMb: number };
}

/** Tasks sent while one runs wait here and start as soon as it ends (task-queue.ts). */
const queue = new TaskQueue<WorkerResult>();

const queueApi = {
  ...api,
  /** Runs `call` after the tasks sent before it; `null` if withdrawn before it started. */
  enqueue(id: number, call: TaskCall): Promise<WorkerResult | null> {
    return queue.add(id, () => call.wasm
      ? api.runWasm(call.kind, call.input, call.wasm.codeHash, call.wasm.bundle, call.wasm.memoryMb)
      : api.run(call.kind, call.input));
  },
  /** True if task `id` was waiting and now never runs; false if it is running or done. */
  withdraw(id: number): boolean {
    return queue.withdraw(id);
  },
};

export type TaskWorkerApi = typeof queueApi;

// A dedicated worker hears only the page that created it, and such messages carry an empty
// origin: accept exactly those rather than Comlink's default of any origin.
Comlink.expose(queueApi, self as unknown as Comlink.Endpoint, ['']);
