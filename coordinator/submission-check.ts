/**
 * The checks a submission passes before and while its work units are stored, shared by storing it
 * (batches.ts) and by its dry run (batch-preview.ts), so that a dry run refuses exactly what a
 * submission would: the kind, the policy, the param names, the generator's params, and each input
 * with its encoded size.
 */
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
export async function checkSubmission(catalog: KindCatalog, sub: BatchSubmission): Promise<CheckedSubmission> {
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
  return { entry, policy, explicit: false, chunks: chunksOf(generated(kind, sub.params ?? {}), INGEST_CHUNK) };
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

/** A generator's inputs; its errors (it checks params when first iterated) are the caller's bad params. */
function* generated(kind: JobKind, params: Json): Iterable<unknown> {
  try {
    yield* kind.generate!(params);
  } catch (err) {
    if (err instanceof GridError) throw err;
    throw CoordinatorErrors.INVALID_PARAMS(kind.name, (err as Error).message);
  }
}
