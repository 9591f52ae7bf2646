/**
 * The Web Worker: runs one task at a time with the very same jobs/ code as a node worker's
 * Piscina thread (worker/task-thread.ts), so the grid can cross-check a browser's output against
 * a node's byte for byte. Called from the page through Comlink.
 */
import * as Comlink from 'comlink';
import { decodeInput, encodeOutput } from '../jobs/codec.js';
import { getBuiltinKind } from '../jobs/registry.js';
import { runWasmTask } from '../jobs/wasm-task.js';

/** Errors come back as values, like worker/task-thread.ts: thrown errors lose their fields in transit. */
export type WorkerResult =
  | { output: Uint8Array; cpuMs: number }
  | { errorCode: 'exception' | 'unknown_kind' | 'invalid_input'; message: string; cpuMs: number };

const api = {
  run(kindName: string, input: Uint8Array): WorkerResult {
    // Built-in kinds here: the page runs no JavaScript it did not ship with (docs/BROWSER.md);
    // custom code reaches it only as a sandboxed WASM kind (runWasm).
    const kind = getBuiltinKind(kindName);
    if (!kind) return { errorCode: 'unknown_kind', message: `unknown job kind ${kindName}`, cpuMs: 0 };
    let value: unknown;
    try {
      value = kind.validateInput(decodeInput(input));
    } catch (err) {
      return { errorCode: 'invalid_input', message: (err as Error).message, cpuMs: 0 };
    }
    // Browsers expose no thread CPU clock; wall time of a thread that does nothing else is close.
    const started = performance.now();
    try {
      // Copied, not transferred: outputs are small, and a kind may keep reusing the buffer it returns a view of.
      return { output: encodeOutput(kind, kind.run(value)), cpuMs: performance.now() - started };
    } catch (err) {
      return { errorCode: 'exception', message: err instanceof Error ? err.message : String(err), cpuMs: performance.now() - started };
    }
  },

  /**
   * A WASM kind's task, with the same jobs/wasm-task.ts and WASI shim as a node worker's thread:
   * the module is sandboxed (docs/SECURITY.md), so the page runs it as it runs its own kinds.
   * `bundle` was checked against `codeHash` by the agent.
   */
  async runWasm(kindName: string, input: Uint8Array, codeHash: Uint8Array, bundle: Uint8Array, memoryMb: number): Promise<WorkerResult> {
    const started = performance.now();
    const outcome = await runWasmTask({ kind: kindName, codeHash, bundle: () => bundle, input, memoryMb });
    const cpuMs = performance.now() - started;
    return 'output' in outcome ? { output: outcome.output, cpuMs } : { ...outcome, cpuMs };
  },
};

export type TaskWorkerApi = typeof api;

// A dedicated worker hears only the page that created it, and such messages carry an empty
// origin: accept exactly those rather than Comlink's default of any origin.
Comlink.expose(api, self as unknown as Comlink.Endpoint, ['']);
