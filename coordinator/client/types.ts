/**
 * What the coordinator's HTTP API sends and takes, as TypeScript types (see docs/API.md). What it
 * sends is derived from the JSON schemas its routes serialise with (coordinator/http/shapes.ts).
 */
import type { BatchPreviewView, BatchView, HealthView, KindParamView, KindView, SubmittedView, WorkerView } from '../http/shapes.js';
import type { Policy } from '../policy.js';

export interface GridClientOptions {
  /** Coordinator URL. @defaultValue process.env.SWARMGRID_URL */
  url?: string;
  /** Bearer token for submitting and cancelling (and reading, on a `--private` coordinator). @defaultValue process.env.SWARMGRID_TOKEN */
  token?: string;
  /**
   * Per-request timeout in ms for reads and cancels. Submissions have none (the coordinator
   * answers once every unit is stored, which may take minutes), nor do streamed downloads.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /**
   * How long a submission keeps retrying (same Idempotency-Key) while the coordinator cannot be
   * reached, is restarting or is still storing an earlier try, and how long `wait()` keeps
   * polling through such an outage, ms.
   * @defaultValue 600000 (10 min)
   */
  retryMs?: number;
  /** Told of each transient failure a submission retries after (attempt 1, 2, …). */
  onRetry?: (err: Error, attempt: number) => void;
}

/** Options of one submission. */
export interface SubmitOptions {
  /**
   * The submission's Idempotency-Key, sent on every try: a retry gets the batch an earlier try
   * stored. @defaultValue a new random UUID per call
   */
  idempotencyKey?: string;
}

/** A batch as one JSON document: `inputs`, or `params` for the kind's generator (or both: then params only reach the reducer). */
export interface BatchSpec {
  kind: string;
  params?: Record<string, unknown>;
  inputs?: unknown[];
  policy?: Policy;
}

/** The first line of an NDJSON submission; the inputs follow, one per line. */
export interface NdjsonHeader {
  kind: string;
  params?: Record<string, unknown>;
  policy?: Policy;
}

/**
 * A batch as `GET /v1/batches/:id` shows it: state, counts per state (`provisional`: units accepted
 * on a single unchecked copy, a gauge until the batch closes), progress (decided / total, 0..1),
 * rate (units decided per second) and ETA (s, null when not running), the resolved policy, and
 * `waiting` (why a running batch can decide nothing). Derived from the route's schema
 * (coordinator/http/shapes.ts, where each field is described); docs/API.md tells the rest.
 */
export type BatchStatus = BatchView;
/** `loading` → `running` → `finishing` → `completed` | `failed`, or `cancelled` (docs/API.md). */
export type BatchState = BatchView['state'];
/** The answer to a submission: the batch id, its work units, its state (`running`, or `loading` while a big one streams in). */
export type Submitted = SubmittedView;

/** A dry run's answer (`POST /v1/batches?dryRun=true`): what the batch would run; nothing was stored. */
export type BatchPreview = BatchPreviewView;

/** One line of `GET /v1/batches/:id/results`. */
export interface ResultLine {
  seq: number;
  state: 'validated' | 'failed';
  /** The canonical output: JSON, or base64 when `encoding` says so (kinds with binary outputs). */
  output?: unknown;
  encoding?: 'base64';
  /** How many tasks agreed on it. */
  agreed?: number;
  /** Why a failed unit failed (`no_quorum`, `too_many_errors`, `workers_lost`). */
  reason?: string | null;
}

/** One batch parameter of a kind (a custom kind's are shown as the kind gives them). */
export type KindParam = KindParamView;
/** A job kind as `GET /v1/kinds` shows it. */
export type KindInfo = KindView;
/** A worker as `GET /v1/workers` shows it; `address` only with an operator's token. */
export type WorkerInfo = WorkerView;
/** `GET /healthz`. */
export type Health = HealthView;

export interface Artifact {
  bytes: Uint8Array;
  contentType: string;
  fileName: string;
}
