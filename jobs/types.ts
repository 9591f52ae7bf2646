/**
 * The job-kind contract. A job kind is a named, versioned, deterministic function
 * `input -> output`. Job kinds are isomorphic: no Node built-ins, no Date, no Math.random,
 * because the same module runs in Piscina worker threads and in browser Web Workers and the
 * grid cross-checks their outputs byte for byte (or within a tolerance).
 */

/** JSON values: what inputs, params and (non-binary) outputs are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How two outputs of the same work unit are judged to agree. */
export type Comparator =
  /** Canonical bytes, compared by SHA-256 digest. The default. */
  | { type: 'exact' }
  /**
   * Numeric tolerance: every number found at the same place in both (JSON) outputs must satisfy
   * |a - b| <= abs or |a - b| <= rel * max(|a|, |b|); everything else must be equal.
   */
  | { type: 'tolerance'; abs: number; rel: number }
  /** A custom predicate on decoded outputs. Must be symmetric. */
  | { type: 'custom'; compare: (a: unknown, b: unknown) => boolean };

/** An artifact: what a reducer makes of a whole batch. */
export interface Artifact {
  /** MIME type, e.g. `application/json`, `text/csv`, `image/png`, `image/svg+xml`. */
  contentType: string;
  /** File name suggested when written to disk, e.g. `pi.json`, `mandelbrot.png`. */
  fileName: string;
  bytes: Uint8Array;
  /** A one-line human summary, e.g. `pi ≈ 3.14159 ± 0.00010`. */
  summary: string;
}

/**
 * Folds canonical results, in work-unit order, into the batch's artifact (BOINC's assimilator).
 * The accumulator must stay small (a million work units stream through it).
 */
export interface Reducer<I, O, A> {
  init(params: Json | undefined, total: number): A;
  /** Called once per validated work unit in order of `seq`. */
  add(acc: A, output: O, input: I, seq: number): A;
  finish(acc: A): Artifact;
}

/** Describes one batch parameter for `swarmgrid kinds` and the docs. */
export interface ParamSpec {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean';
  default?: Json;
  description: string;
}

export interface JobKind<I = any, O = any, A = any> {
  /** Lower-case name, e.g. `pi`. */
  readonly name: string;
  /** Semantic version; results of different versions are never compared. */
  readonly version: string;
  readonly description: string;
  /**
   * `json`: run() returns a JSON value, sent as canonical UTF-8 JSON.
   * `bytes`: run() returns a Uint8Array, sent as is.
   */
  readonly output: 'json' | 'bytes';
  /** Throws an Error whose message says what is wrong; returns the typed input. */
  validateInput(input: unknown): I;
  /** The computation. Pure and deterministic. */
  run(input: I): O;
  /** Defaults to `{ type: 'exact' }`. */
  readonly comparator?: Comparator;
  readonly reducer?: Reducer<I, O, A>;
  /** Batch params accepted by `generate`, for docs and `swarmgrid kinds`. */
  readonly params?: readonly ParamSpec[];
  /**
   * Splits batch params into work-unit inputs of a sensible size. Throws on invalid params.
   * Must be lazy (a generator) so huge batches never sit in memory.
   */
  generate?(params: Json): Iterable<I>;
  /**
   * Set for WASM kinds (coordinator/wasm-kinds.ts): their code runs in the WASI sandbox, so
   * volunteers run it without trusting the coordinator. `timeoutMs`: the manifest's time limit
   * of one task, used when the batch policy sets none (0 = none).
   */
  readonly sandbox?: { type: 'wasm'; timeoutMs: number };
}
