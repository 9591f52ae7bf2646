/**
 * A dry run of a submission (`POST /v1/batches?dryRun=true`, `swarmgrid submit --dry-run`): the
 * same checks as storing it (kind, policy, param names, generator params, every input and its
 * size), and what it would run, with nothing stored or dispatched.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { encodeInput } from '../jobs/codec.js';
import type { Json } from '../jobs/types.js';
import { checkParamNames } from '../jobs/validate.js';
import { GridError } from '../proto/errors.js';
import { chunksOf, type InputChunk, unitLabel } from './batch-inputs.js';
import type { BatchSubmission } from './batches.js';
import { CoordinatorErrors } from './errors.js';
import type { KindCatalog } from './kind-catalog.js';
import { resolvePolicy, type ResolvedPolicy } from './policy.js';

export interface BatchPreview {
  kind: string;
  version: string;
  /** With a generator: the params it would run with, each default filled in. Otherwise the params as sent (for the reducer), or null. */
  params: Json | null;
  /** Every policy field, defaults filled in. */
  policy: ResolvedPolicy;
  /** Work units the batch would have. */
  total: number;
  /** The first work unit's input, as the kind validated it. */
  firstInput: unknown;
}

/** Checks `sub` as BatchManager.create would and says what it would run; throws the same errors. */
export async function previewBatch(catalog: KindCatalog, sub: BatchSubmission, maxPayloadBytes: number): Promise<BatchPreview> {
  const entry = await catalog.resolve(sub.kind);
  if (!entry) throw CoordinatorErrors.UNKNOWN_KIND(sub.kind);
  const { kind } = entry;
  const policy = resolvePolicy(sub.policy);
  try {
    checkParamNames(kind.params, sub.params);
  } catch (err) {
    throw CoordinatorErrors.INVALID_PARAMS(kind.name, (err as Error).message);
  }
  const explicit = sub.inputChunks ?? (sub.inputs ? chunksOf(sub.inputs, 5000) : undefined);
  if (!explicit && !kind.generate) throw CoordinatorErrors.BAD_REQUEST(`job kind ${kind.name} has no generator: send inputs`);
  let params: Json | null = sub.params ?? null;
  if (!explicit) {
    const defaults = Object.fromEntries((kind.params ?? []).filter((p) => p.default !== undefined).map((p) => [p.name, p.default!]));
    params = { ...defaults, ...(sub.params as Record<string, Json> | undefined) };
  }
  const chunks: AsyncIterable<InputChunk> = explicit ?? chunksOf(generatedInputs(kind.name, () => kind.generate!(sub.params ?? {})), 5000);
  let total = 0;
  let firstInput: unknown = null;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.values.length; i++) {
      try {
        const input = kind.validateInput(chunk.values[i]);
        const bytes = encodeInput(input).byteLength;
        if (bytes > maxPayloadBytes) throw CoordinatorErrors.PAYLOAD_TOO_LARGE(unitLabel(total, chunk, i), bytes, maxPayloadBytes);
        if (total === 0) firstInput = input;
      } catch (err) {
        if (err instanceof GridError) throw err;
        throw CoordinatorErrors.INVALID_INPUT(unitLabel(total, chunk, i), (err as Error).message);
      }
      total++;
    }
    await yieldToLoop(); // a big batch must not hold the coordinator's event loop
  }
  if (total === 0) throw CoordinatorErrors.EMPTY_BATCH();
  return { kind: kind.name, version: kind.version, params, policy, total, firstInput };
}

/** A generator's inputs; its errors (it checks params when first iterated) are the caller's bad params. */
function* generatedInputs(kind: string, generate: () => Iterable<unknown>): Iterable<unknown> {
  try {
    yield* generate();
  } catch (err) {
    if (err instanceof GridError) throw err;
    throw CoordinatorErrors.INVALID_PARAMS(kind, (err as Error).message);
  }
}
