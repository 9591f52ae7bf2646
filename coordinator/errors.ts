/** The coordinator's error catalogue (HTTP API and scheduling). Every code is in docs/ERRORS.md. */
import { createError } from '../proto/errors.js';

export const CoordinatorErrors = {
  BAD_REQUEST: createError('GRID_ERR_BAD_REQUEST', '%s', 400),
  INVALID_JSON: createError('GRID_ERR_INVALID_JSON', 'request body is not valid JSON: %s', 400),
  UNSUPPORTED_MEDIA_TYPE: createError('GRID_ERR_UNSUPPORTED_MEDIA_TYPE', 'content type %s is not supported; use application/json or application/x-ndjson', 415),
  BODY_TOO_LARGE: createError('GRID_ERR_BODY_TOO_LARGE', 'request body exceeds %s bytes; send big batches as NDJSON', 413),
  UNKNOWN_KIND: createError('GRID_ERR_UNKNOWN_KIND', 'unknown job kind "%s"', 400),
  INVALID_KIND: createError('GRID_ERR_INVALID_KIND', 'invalid job kind module: %s', 400),
  INVALID_INPUT: createError('GRID_ERR_INVALID_INPUT', 'work unit %s: %s', 400),
  PAYLOAD_TOO_LARGE: createError('GRID_ERR_PAYLOAD_TOO_LARGE', 'work unit %s: its input is %s bytes, more than the %s bytes a work unit may carry (the coordinator\'s --max-payload-bytes)', 413),
  INVALID_PARAMS: createError('GRID_ERR_INVALID_PARAMS', 'invalid params for %s: %s', 400),
  INVALID_POLICY: createError('GRID_ERR_INVALID_POLICY', 'invalid policy: %s', 400),
  NDJSON_LINE: createError('GRID_ERR_NDJSON_LINE', 'line %s: %s', 400),
  EMPTY_BATCH: createError('GRID_ERR_EMPTY_BATCH', 'a batch needs at least one work unit', 400),
  BATCH_NOT_FOUND: createError('GRID_ERR_BATCH_NOT_FOUND', 'batch %s not found', 404),
  NO_ARTIFACT: createError('GRID_ERR_NO_ARTIFACT', 'batch %s has no artifact yet (state: %s)', 409),
  BATCH_FINISHED: createError('GRID_ERR_BATCH_FINISHED', 'batch %s is already %s', 409),
  UNAUTHORIZED: createError('GRID_ERR_UNAUTHORIZED', 'a valid bearer token is required', 401),
  FORBIDDEN: createError('GRID_ERR_FORBIDDEN', 'this %s token may not %s', 403),
  TOKEN_NOT_FOUND: createError('GRID_ERR_TOKEN_NOT_FOUND', 'no token %s (swarmgrid token list shows them)', 404),
  TOKEN_AMBIGUOUS: createError('GRID_ERR_TOKEN_AMBIGUOUS', '%s tokens have ids starting %s: give more digits', 400),
  RATE_LIMITED: createError('GRID_ERR_RATE_LIMITED', 'too many submissions; retry in %s s', 429),
  UPLOAD_STALLED: createError('GRID_ERR_UPLOAD_STALLED', 'the submission body sent nothing for %s s; nothing of it was stored', 408),
  TOO_MANY_READERS: createError('GRID_ERR_TOO_MANY_READERS', '%s result or artifact streams are being served already (--max-readers); retry in %s s', 429),
  SUBMISSION_IN_PROGRESS: createError('GRID_ERR_SUBMISSION_IN_PROGRESS', 'a submission with this Idempotency-Key is still being stored; retry in a few seconds', 409),
  IDEMPOTENCY_MISMATCH: createError('GRID_ERR_IDEMPOTENCY_MISMATCH', 'Idempotency-Key %s was used for batch %s with another body; use a new key for a new submission', 422),
  NOT_FOUND: createError('GRID_ERR_NOT_FOUND', 'route %s %s not found', 404),
  STOPPING: createError('GRID_ERR_STOPPING', 'the coordinator is stopping; the submission was not stored: send it again once it is back', 503),
  INTERNAL: createError('GRID_ERR_INTERNAL', 'internal error: %s', 500),
  ORIGIN: createError('GRID_ERR_ORIGIN', 'the volunteer WebSocket refuses pages from origin %s: it admits its own page at an address (http://203.0.113.5:8080) and the --allow-origin values; a coordinator served under a DNS name needs --allow-origin https://that.name', 403),
  UPGRADE_REQUIRED: createError('GRID_ERR_UPGRADE_REQUIRED', '/v1/volunteer is a WebSocket: open it with Upgrade: websocket (the volunteer page at / does)', 426),
  VOLUNTEER_ID: createError('GRID_ERR_VOLUNTEER_ID', 'the volunteer id must be 64 lowercase hex characters (a 32-byte key)', 400),
  STORAGE_FULL: createError('GRID_ERR_STORAGE_FULL', 'no space left on the device of %s (%s): nothing was stored; free space and it resumes', 507),
  STORAGE: createError('GRID_ERR_STORAGE', 'disk error on %s: %s', 500),
  IDENTITY_DAMAGED: createError('GRID_ERR_IDENTITY_DAMAGED', 'identity file %s is damaged (%s): it holds this node\'s key pair; restore it from a backup, or delete it to start under a new identity', 500),
  NO_STORE: createError('GRID_ERR_NO_STORE', '--data %s %s (no coordinator.sqlite): check the path; to make a new store there, add --init or start swarmgrid coordinator --data %s', 400),
  STORE_LOCKED: createError('GRID_ERR_STORE_LOCKED', 'data directory %s is in use by another coordinator (one coordinator per --data)', 500),
} as const;

/** Raised on the submitter's side by GridClient (coordinator/client) and the CLI commands over it. */
export const ClientErrors = {
  NO_URL: createError('GRID_ERR_NO_URL', 'no coordinator URL: pass --url or set SWARMGRID_URL', 400),
  BAD_URL: createError('GRID_ERR_BAD_URL', 'the coordinator URL "%s" is not an http(s) URL: did you mean %s?', 400),
  UNREACHABLE: createError('GRID_ERR_UNREACHABLE', 'cannot reach the coordinator at %s: %s', 503),
  TIMEOUT: createError('GRID_ERR_TIMEOUT', '%s %s: no answer within %s ms', 504),
  HTTP: createError('GRID_ERR_HTTP', '%s %s: HTTP %s', 502),
} as const;
