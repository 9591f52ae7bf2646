/**
 * A dry run of a submission (`POST /v1/batches?dryRun=true`, `swarmgrid submit --dry-run`): the
 * same checks as storing it (kind, policy, param names, generator params, every input and its
 * size), and what it would run, with nothing stored or dispatched.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Json } from '../jobs/types.js';
import type { BatchSubmission } from './batches.js';
import { CoordinatorErrors } from './errors.js';
import type { KindCatalog } from './kind-catalog.js';
import type { ResolvedPolicy } from './policy.js';
import { checkedInput, checkSubmission, type GeneratorBudget } from './submission-check.js';

/**
 * What a dry run lets a generator make: a dry run stores nothing and leaves no batch behind for
 * an operator to see, so it may not buy a stored batch's worth of coordinator time (10 million
 * units took 76 s of its thread). Inputs sent with the request are not bounded: their sender pays.
 */
export const DRY_RUN_BUDGET: GeneratorBudget = {
  units: 100_000,
  bytes: 64 * 1024 * 1024,
  limit: (kind) => CoordinatorErrors.DRY_RUN_LIMIT('100,000 work units or 64 MiB of inputs', kind),
};

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
  const { entry: { kind }, policy, explicit, chunks } = await checkSubmission(catalog, sub, DRY_RUN_BUDGET);
  let params: Json | null = sub.params ?? null;
  if (!explicit) {
    const defaults = Object.fromEntries((kind.params ?? []).filter((p) => p.default !== undefined).map((p) => [p.name, p.default!]));
    params = { ...defaults, ...(sub.params as Record<string, Json> | undefined) };
  }
  let total = 0;
  let firstInput: unknown = null;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.values.length; i++) {
      const { input } = checkedInput(kind, chunk, i, total, maxPayloadBytes);
      if (total === 0) firstInput = input;
      total++;
    }
    await yieldToLoop(); // a big batch must not hold the coordinator's event loop
  }
  if (total === 0) throw CoordinatorErrors.EMPTY_BATCH();
  return { kind: kind.name, version: kind.version, params, policy, total, firstInput };
}
