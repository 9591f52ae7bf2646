/** The worker's error catalogue. Task error codes travel in TaskResult.error_code. */
import { createError } from '../proto/errors.js';

/** Stable task error codes reported to coordinators. */
export type TaskErrorCode = 'exception' | 'timeout' | 'out_of_memory' | 'unknown_kind' | 'invalid_input' | 'aborted' | 'output_too_large';

export const WorkerErrors = {
  INVALID_OPTION: createError('GRID_ERR_INVALID_OPTION', '%s', 400),
  UNKNOWN_KIND: createError('GRID_ERR_UNKNOWN_KIND', 'unknown job kind "%s"', 400),
  CODE_HASH_MISMATCH: createError('GRID_ERR_CODE_HASH_MISMATCH', 'code bundle for %s does not match its hash', 400),
  CODE_SIGNATURE: createError('GRID_ERR_CODE_SIGNATURE', 'code bundle for %s is not signed by its coordinator', 400),
  CODE_UNAVAILABLE: createError('GRID_ERR_CODE_UNAVAILABLE', 'code bundle for %s could not be fetched: %s', 503),
  BLOB_UNAVAILABLE: createError('GRID_ERR_BLOB_UNAVAILABLE', 'the coordinator no longer has the input of task %s', 410),
  WASM_REFUSED: createError('GRID_ERR_WASM_REFUSED', 'WASM job kind %s: this volunteer runs no WASM kinds (started with --no-wasm)', 403),
  UNTRUSTED_CODE: createError('GRID_ERR_UNTRUSTED_CODE', 'custom job kind %s from an untrusted coordinator (start the worker with --trust %s)', 403),
} as const;
