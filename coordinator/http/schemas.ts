/** JSON schemas shared by routes, and the guard type. */
import type { FastifyRequest } from 'fastify';

export const errorSchema = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;

export type Guards = Record<'write' | 'submit' | 'read', (req: FastifyRequest) => Promise<void>>;
