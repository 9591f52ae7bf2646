/** What the coordinator's HTTP API sends and takes, as TypeScript types (see docs/API.md). */
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

export type BatchState = 'loading' | 'running' | 'finishing' | 'completed' | 'failed' | 'cancelled';

export interface BatchStatus {
  id: string;
  kind: string;
  kindVersion: string;
  state: BatchState;
  /** Work units (while loading: stored so far). */
  total: number;
  counts: { validated: number; provisional: number; failed: number; pending: number; inProgress: number; inconclusive: number; cancelled: number };
  /** Decided / total, 0..1. */
  progress: number;
  tasksIssued: number;
  ratePerSecond: number;
  etaSeconds: number | null;
  policy: Required<Policy>;
  params: Record<string, unknown> | null;
  /** The submitting token's id, as `swarmgrid token list` shows it. */
  owner: string | null;
  createdAt: string;
  finishedAt: string | null;
  summary: string | null;
  artifact: { contentType: string; fileName: string } | null;
  error: string | null;
  /** Why a running batch can decide nothing: the volunteers connected cannot form its quorum. */
  waiting: string | null;
}

export interface Submitted {
  id: string;
  total: number;
  state: BatchState;
}

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

export interface KindParam {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean';
  default?: unknown;
  description: string;
}

export interface KindInfo {
  name: string;
  version: string;
  description: string;
  custom: boolean;
  /** `wasm` kinds run sandboxed on every volunteer; `js` custom kinds only under --trust. */
  runtime: 'builtin' | 'js' | 'wasm';
  output: 'json' | 'bytes';
  comparator: string;
  reducer: boolean;
  /** Accepts `params` instead of explicit inputs. */
  generator: boolean;
  params: KindParam[];
}

export interface WorkerInfo {
  key: string;
  runtime: 'node' | 'browser';
  /** Only with an operator's token. */
  address?: string;
  connected: boolean;
  threads: number;
  firstSeen: string;
  lastSeen: string;
  reputation: { valid: number; invalid: number; errors: number; timedOut: number; consecutiveValid: number; score: number | null };
  tasksDone: number;
  cpuSeconds: number;
}

export interface Health {
  status: 'ok';
  coordinator: string;
  grid: string;
  uptimeSeconds: number;
  workers: number;
  activeBatches: number;
}

export interface Artifact {
  bytes: Uint8Array;
  contentType: string;
  fileName: string;
}
