/**
 * JSON schemas shared by the routes, and the guard type. Response schemas are complete (Fastify
 * serializes with them, dropping anything unlisted) and are what /docs shows; they live in
 * shapes.ts, where the client's types are derived from them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorSchema } from './shapes.js';

export { batchPreviewSchema, batchViewSchema, errorSchema, healthSchema, kindViewSchema, submittedSchema, workerViewSchema } from './shapes.js';

/** The error responses a route can give, for its schema. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}

export type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
export type Guards = Record<'write' | 'submit' | 'read', Guard>;
