/**
 * JSON schemas shared by the routes, and the guard type. Response schemas are complete (Fastify
 * serializes with them, dropping anything unlisted) and are what /docs shows.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const errorSchema = {
  type: 'object',
  description: 'Every error: a stable code from docs/ERRORS.md and a human message',
  properties: { code: { type: 'string', pattern: '^GRID_ERR_' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;

const nullableString = { type: ['string', 'null'] } as const;

export const batchViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    kindVersion: { type: 'string' },
    state: { type: 'string', enum: ['loading', 'running', 'finishing', 'completed', 'failed', 'cancelled'] },
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
    },
    progress: { type: 'number', description: 'decided / total, 0..1' },
    tasksIssued: { type: 'integer' },
    ratePerSecond: { type: 'number', description: 'work units decided per second: over the last minute while running, over the whole run once finished' },
    etaSeconds: { type: ['integer', 'null'], description: 'seconds left at that rate; null when not running or nothing was decided for a minute' },
    policy: { type: 'object', additionalProperties: true },
    params: { type: ['object', 'null'], additionalProperties: true },
    owner: { type: ['string', 'null'], description: "the submitting token's id (`swarmgrid token list`)" },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: nullableString,
    summary: nullableString,
    artifact: {
      type: ['object', 'null'],
      properties: { contentType: { type: 'string' }, fileName: { type: 'string' } },
    },
    error: nullableString,
    waiting: { ...nullableString, description: 'why a running batch can decide nothing: the volunteers connected cannot form its quorum' },
  },
} as const;

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
    },
    tasksDone: { type: 'integer' },
    cpuSeconds: { type: 'integer' },
  },
} as const;

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
    params: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          type: { type: 'string' },
          default: {},
          description: { type: 'string' },
        },
      },
    },
  },
} as const;

/** The error responses a route can give, for its schema. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}

export type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
export type Guards = Record<'write' | 'submit' | 'read', Guard>;
