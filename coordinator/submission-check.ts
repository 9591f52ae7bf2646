/**
 * The checks a submission passes before and while its work units are stored, shared by storing it
 * (batches.ts) and by its dry run (batch-preview.ts), so that a dry run refuses exactly what a
 * submission would: the kind, the policy, the param names, the generator's params, and each input
 * with its encoded size.
 */
import { createContext, Script } from 'node:vm';
import { encodeInput } from '../jobs/codec.js';
import type { Json, JobKind } from '../jobs/types.js';
import { checkParamNames } from '../jobs/validate.js';
import { GridError } from '../proto/errors.js';
import { chunksOf, type InputChunk, unitLabel } from './batch-inputs.js';
import type { BatchSubmission } from './batches.js';
import { CoordinatorErrors } from './errors.js';
import type { CatalogEntry, KindCatalog } from './kind-catalog.js';
import { resolvePolicy, type ResolvedPolicy } from './policy.js';

/** Inputs are taken in and stored this many at a time. */
export const INGEST_CHUNK = 5000;
/** A chunk is also cut at about this many bytes of inputs (generated: JSON text; stored: encoded), so that big inputs are few per chunk in memory. */
export const INGEST_CHUNK_BYTES = 8 * 1024 * 1024;
/**
 * Most a generator may take to make its next chunk of work units, in ms. A generator runs on the
 * coordinator's one thread: params that make it loop (a step of 0, a range it never leaves) would
 * otherwise freeze every batch and volunteer of the grid, not only this submission. Below a
 * volunteer's heartbeat judgement (a coordinator silent for one to two periods of 3 s is dropped,
 * proto/volunteer/heartbeat.ts), so that a stopped loop costs no volunteer its link; a chunk
 * (at most 5,000 units or 8 MiB) takes milliseconds for any generator that is not looping.
 */
export const GENERATOR_STEP_MS = 2_000;

/**
 * What one batch's params may make a generator produce: a request of a few bytes must not buy
 * unbounded coordinator time, memory or disk. `limit` is the error past either bound.
 */
export interface GeneratorBudget {
  units: number;
  /** Bytes of inputs as JSON text. */
  bytes: number;
  limit: (kind: string) => Error;
}

const budgetText = (b: GeneratorBudget) => `${b.units.toLocaleString('en-US')} work units or ${b.bytes / (1024 * 1024)} MiB of inputs`;

/** A stored batch: 10 million work units (the sweep's own cap) or 256 MiB of inputs. */
export const SUBMIT_BUDGET: GeneratorBudget = {
  units: 10_000_000,
  bytes: 256 * 1024 * 1024,
  limit: (kind) => CoordinatorErrors.GENERATOR_LIMIT(kind, budgetText(SUBMIT_BUDGET)),
};

export interface CheckedSubmission {
  entry: CatalogEntry;
  policy: ResolvedPolicy;
  /** Whether the inputs were sent (else the kind's generator makes them from params). */
  explicit: boolean;
  /** The inputs, unchecked yet: check each with checkedInput as it is taken. */
  chunks: AsyncIterable<InputChunk>;
}

/**
 * Resolves the kind (a custom kind added since start included) and the policy, checks the param
 * names, and picks the inputs: those sent, else the generator's over params.
 * @throws GRID_ERR_UNKNOWN_KIND, GRID_ERR_INVALID_POLICY, GRID_ERR_INVALID_PARAMS (names here; the
 *   generator's own checks when its inputs are first taken), GRID_ERR_BAD_REQUEST (no inputs and no generator)
 */
export async function checkSubmission(catalog: KindCatalog, sub: BatchSubmission, budget: GeneratorBudget = SUBMIT_BUDGET): Promise<CheckedSubmission> {
  const entry = await catalog.resolve(sub.kind);
  if (!entry) throw CoordinatorErrors.UNKNOWN_KIND(sub.kind);
  const { kind } = entry;
  const policy = resolvePolicy(sub.policy);
  try {
    checkParamNames(kind.params, sub.params);
  } catch (err) {
    throw CoordinatorErrors.INVALID_PARAMS(kind.name, (err as Error).message);
  }
  const sent = sub.inputChunks ?? (sub.inputs ? chunksOf(sub.inputs, INGEST_CHUNK) : undefined);
  if (sent) return { entry, policy, explicit: true, chunks: sent };
  if (!kind.generate) throw CoordinatorErrors.BAD_REQUEST(`job kind ${kind.name} has no generator: send inputs`);
  return { entry, policy, explicit: false, chunks: generated(kind, sub.params ?? {}, budget) };
}

/**
 * One input as the kind validates it, and its canonical bytes, no longer than any worker could be
 * sent. `seq` is the work unit's number, for the message.
 * @throws GRID_ERR_INVALID_INPUT, GRID_ERR_PAYLOAD_TOO_LARGE
 */
export function checkedInput(kind: JobKind, chunk: InputChunk, index: number, seq: number, maxPayloadBytes: number): { input: unknown; bytes: Uint8Array } {
  try {
    const input = kind.validateInput(chunk.values[index]);
    const bytes = encodeInput(input);
    if (bytes.byteLength > maxPayloadBytes) throw CoordinatorErrors.PAYLOAD_TOO_LARGE(unitLabel(seq, chunk, index), bytes.byteLength, maxPayloadBytes);
    return { input, bytes };
  } catch (err) {
    if (err instanceof GridError) throw err;
    throw CoordinatorErrors.INVALID_INPUT(unitLabel(seq, chunk, index), (err as Error).message);
  }
}

/** JSON text length of an input (its stored size, near enough); 0 when it has none (checkedInput says why). */
function sizeOf(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** Runs `step` in a vm with a watchdog: a synchronous loop anywhere below it is stopped after GENERATOR_STEP_MS. */
const STEP = new Script('step()', { filename: 'generator-step' });

/**
 * A generator's inputs, chunk by chunk, within `budget` and GENERATOR_STEP_MS per chunk. Its
 * errors (it checks params when first iterated) are the caller's bad params.
 * @throws the budget's limit error, GRID_ERR_GENERATOR_TIMEOUT, GRID_ERR_INVALID_PARAMS
 */
async function* generated(kind: JobKind, params: Json, budget: GeneratorBudget): AsyncGenerator<InputChunk> {
  let it: Iterator<unknown> | undefined;
  let units = 0;
  let bytes = 0;
  const step = (): { values: unknown[]; done: boolean } => {
    it ??= kind.generate!(params)[Symbol.iterator]();
    const values: unknown[] = [];
    let chunkBytes = 0;
    while (values.length < INGEST_CHUNK && chunkBytes < INGEST_CHUNK_BYTES) {
      const next = it.next();
      if (next.done) return { values, done: true };
      const size = sizeOf(next.value);
      units++;
      bytes += size;
      chunkBytes += size;
      if (units > budget.units || bytes > budget.bytes) throw budget.limit(kind.name);
      values.push(next.value);
    }
    return { values, done: false };
  };
  const context = createContext({ step });
  for (;;) {
    let chunk: { values: unknown[]; done: boolean };
    try {
      chunk = STEP.runInContext(context, { timeout: GENERATOR_STEP_MS }) as typeof chunk;
    } catch (err) {
      if (err instanceof GridError) throw err;
      if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw CoordinatorErrors.GENERATOR_TIMEOUT(kind.name, GENERATOR_STEP_MS / 1000);
      throw CoordinatorErrors.INVALID_PARAMS(kind.name, (err as Error).message);
    }
    if (chunk.values.length > 0) yield { values: chunk.values };
    if (chunk.done) return;
  }
}
