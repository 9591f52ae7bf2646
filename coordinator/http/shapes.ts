/**
 * What the API sends, as JSON schemas written `as const`: the one source of each shape. The routes
 * serialise with them (Fastify drops anything unlisted), /docs shows them, and the TypeScript type
 * beside each is derived from it (from-schema.ts): the views (views.ts) are written to those types
 * and the client (client/types.ts) reads them.
 *
 * Imports nothing that needs Node or Fastify: `swarmgrid/client` loads this file, in Node and in
 * browsers alike.
 */
import { BATCH_VIEW_STATES, STORED_BATCH_STATES } from '../states.js';
import type { FromSchema } from './from-schema.js';

export const errorSchema = {
  type: 'object',
  description: 'Every error: a stable code from docs/ERRORS.md and a human message',
  properties: { code: { type: 'string', pattern: '^GRID_ERR_' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;
export type ErrorView = FromSchema<typeof errorSchema>;

const nullableString = { type: ['string', 'null'] } as const;

/** A batch's policy with every default filled in (coordinator/policy.ts checks it is `ResolvedPolicy`). */
export const policySchema = {
  type: 'object',
  // Kept open: a policy is shown as stored, fields of older versions included.
  additionalProperties: true,
  properties: {
    replication: { type: 'integer', description: 'tasks issued per work unit at first' },
    quorum: { type: 'integer', description: 'agreeing results needed for a canonical result' },
    maxTasks: { type: 'integer', description: 'give up on a work unit after issuing this many tasks' },
    maxErrors: { type: 'integer', description: 'give up on a work unit after this many task errors' },
    lease: { type: 'number', description: 'lease per task, s' },
    timeout: { type: 'number', description: 'per-task wall-time limit at the worker, s (0: one lease)' },
    memoryMb: { type: 'integer', description: 'per-task heap limit at the worker, MB (0: worker default)' },
    priority: { type: 'integer', description: 'higher runs first' },
    adaptive: { type: 'boolean', description: 'adaptive replication: single copies for trusted workers' },
    trustAfter: { type: 'integer', description: 'consecutive valid results before a worker is trusted with single copies' },
    spotCheck: { type: 'number', description: "probability that a trusted worker's single copy is still replicated" },
  },
  required: ['replication', 'quorum', 'maxTasks', 'maxErrors', 'lease', 'timeout', 'memoryMb', 'priority', 'adaptive', 'trustAfter', 'spotCheck'],
} as const;
export type PolicyView = FromSchema<typeof policySchema>;

export const batchViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    kindVersion: { type: 'string' },
    state: { type: 'string', enum: BATCH_VIEW_STATES },
    total: { type: 'integer', description: 'work units (while loading: stored so far)' },
    counts: {
      type: 'object',
      description: 'work units per state',
      properties: {
        validated: { type: 'integer' },
        provisional: { type: 'integer' },
        failed: { type: 'integer' },
        pending: { type: 'integer' },
        inProgress: { type: 'integer', description: 'pending units with tasks out at workers' },
        inconclusive: { type: 'integer', description: 'pending units whose results disagree so far' },
        cancelled: { type: 'integer' },
      },
      required: ['validated', 'provisional', 'failed', 'pending', 'inProgress', 'inconclusive', 'cancelled'],
    },
    progress: { type: 'number', description: 'decided / total, 0..1' },
    tasksIssued: { type: 'integer' },
    ratePerSecond: { type: 'number', description: 'work units decided per second: over the last minute while running, over the whole run once finished' },
    etaSeconds: { type: ['integer', 'null'], description: 'seconds left at that rate; null when not running or nothing was decided for a minute' },
    policy: policySchema,
    params: { type: ['object', 'null'], additionalProperties: true },
    owner: { type: ['string', 'null'], description: "the submitting token's id (`swarmgrid token list`)" },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: nullableString,
    summary: nullableString,
    artifact: {
      type: ['object', 'null'],
      properties: { contentType: { type: 'string' }, fileName: { type: 'string' } },
      required: ['contentType', 'fileName'],
    },
    error: nullableString,
    waiting: { ...nullableString, description: 'why a running batch can decide nothing: no volunteer is connected, none of those connected can run its kind (they declined it: the reason says why), or they cannot form its quorum' },
    volunteers: {
      type: ['object', 'null'],
      description: 'on a running batch, who is connected to run it; null otherwise',
      properties: {
        connected: { type: 'integer', description: 'volunteers connected' },
        able: { type: 'integer', description: 'of those, the ones that run its kind' },
        declinedBy: { type: 'integer', description: 'of those, the ones that declined its kind (or will: node workers without --trust for a custom kind)' },
        networks: { type: 'integer', description: 'networks the able ones are on (identities with --local-grid)' },
      },
      required: ['connected', 'able', 'declinedBy', 'networks'],
    },
  },
  required: [
    'id', 'kind', 'kindVersion', 'state', 'total', 'counts', 'progress', 'tasksIssued', 'ratePerSecond', 'etaSeconds', 'policy', 'params',
    'owner', 'createdAt', 'finishedAt', 'summary', 'artifact', 'error', 'waiting', 'volunteers',
  ],
} as const;
export type BatchView = FromSchema<typeof batchViewSchema>;

/** The answer to a submission: every work unit is stored. */
export const submittedSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, total: { type: 'integer' }, state: { type: 'string', enum: STORED_BATCH_STATES } },
  required: ['id', 'total', 'state'],
} as const;
export type SubmittedView = FromSchema<typeof submittedSchema>;

/** A dry run's answer (`POST /v1/batches?dryRun=true`): what the batch would run; nothing was stored. */
export const batchPreviewSchema = {
  type: 'object',
  properties: {
    dryRun: { enum: [true] },
    kind: { type: 'string' },
    version: { type: 'string' },
    params: { description: 'with a generator: the params it would run with, defaults filled in; else the params as sent, or null' },
    policy: { ...policySchema, description: 'every policy field, defaults filled in' },
    total: { type: 'integer', description: 'work units the batch would have' },
    firstInput: { description: "the first work unit's input" },
  },
  required: ['dryRun', 'kind', 'version', 'params', 'policy', 'total', 'firstInput'],
} as const;
export type BatchPreviewView = FromSchema<typeof batchPreviewSchema>;

export const workerViewSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    runtime: { type: 'string', enum: ['node', 'browser'] },
    address: { type: 'string', description: "the network address it connects from; shown to an operator's token only" },
    connected: { type: 'boolean' },
    threads: { type: 'integer' },
    firstSeen: { type: 'string', format: 'date-time' },
    lastSeen: { type: 'string', format: 'date-time' },
    reputation: {
      type: 'object',
      properties: {
        valid: { type: 'integer' },
        invalid: { type: 'integer' },
        errors: { type: 'integer' },
        timedOut: { type: 'integer' },
        consecutiveValid: { type: 'integer' },
        score: { type: ['number', 'null'] },
      },
      required: ['valid', 'invalid', 'errors', 'timedOut', 'consecutiveValid', 'score'],
    },
    tasksDone: { type: 'integer' },
    cpuSeconds: { type: 'integer' },
  },
  required: ['key', 'runtime', 'connected', 'threads', 'firstSeen', 'lastSeen', 'reputation', 'tasksDone', 'cpuSeconds'],
} as const;
export type WorkerView = FromSchema<typeof workerViewSchema>;

export const kindParamSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['integer', 'number', 'string', 'boolean'] },
    default: {},
    description: { type: 'string' },
  },
  // Not required: a custom kind's param specs are shown as the kind gives them.
} as const;
export type KindParamView = FromSchema<typeof kindParamSchema>;

export const kindViewSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    description: { type: 'string' },
    custom: { type: 'boolean' },
    runtime: { type: 'string', enum: ['builtin', 'js', 'wasm'], description: 'js custom kinds run on volunteers that --trust the coordinator; wasm kinds run sandboxed on every volunteer' },
    output: { type: 'string', enum: ['json', 'bytes'] },
    comparator: { type: 'string' },
    reducer: { type: 'boolean' },
    generator: { type: 'boolean', description: 'accepts params instead of inputs' },
    params: { type: 'array', items: kindParamSchema },
  },
  required: ['name', 'version', 'description', 'custom', 'runtime', 'output', 'comparator', 'reducer', 'generator', 'params'],
} as const;
export type KindView = FromSchema<typeof kindViewSchema>;

export const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok'] },
    coordinator: { type: 'string', description: 'public key (hex)' },
    grid: { type: 'string' },
    uptimeSeconds: { type: 'integer' },
    workers: { type: 'integer' },
    activeBatches: { type: 'integer' },
  },
  required: ['status', 'coordinator', 'grid', 'uptimeSeconds', 'workers', 'activeBatches'],
} as const;
export type HealthView = FromSchema<typeof healthSchema>;
