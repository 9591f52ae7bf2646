/**
 * The Web Worker: runs one task at a time with the very same jobs/ code as a node worker's
 * Piscina thread (worker/task-thread.ts), so the grid can cross-check a browser's output against
 * a node's byte for byte. Called from the page through Comlink.
 */
import * as Comlink from 'comlink';
import { decodeInput, encodeOutput } from '../jobs/codec.js';
import { getBuiltinKind } from '../jobs/registry.js';

/** Errors come back as values, like worker/task-thread.ts: thrown errors lose their fields in transit. */
export type WorkerResult =
  | { output: Uint8Array; cpuMs: number }
  | { errorCode: 'exception' | 'unknown_kind' | 'invalid_input'; message: string; cpuMs: number };

const api = {
  run(kindName: string, input: Uint8Array): WorkerResult {
    // Built-in kinds only: the page never runs code it did not ship with (docs/BROWSER.md).
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
};

export type TaskWorkerApi = typeof api;

// A dedicated worker hears only the page that created it, and such messages carry an empty
// origin: accept exactly those rather than Comlink's default of any origin.
Comlink.expose(api, self as unknown as Comlink.Endpoint, ['']);
