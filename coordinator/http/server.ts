/**
 * The coordinator's HTTP API (Fastify). Every route has a JSON schema; every error leaves as
 * `{ code: 'GRID_ERR_…', message }`; OpenAPI is generated from the schemas and served at /docs.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { GridError } from '../../proto/errors.js';
import { CoordinatorErrors } from '../errors.js';
import { bearerOf, RateLimiter, verifyToken } from './auth.js';
import { registerBatchRoutes } from './batch-routes.js';
import type { HttpContext } from './context.js';
import { registerInfoRoutes } from './info-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    submitter?: string;
  }
}

/** Maps Fastify's own errors onto our catalogue so clients see one vocabulary. */
function toGridError(err: Error & { code?: string; statusCode?: number; validation?: unknown }, limit: number): GridError {
  if (err instanceof GridError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return CoordinatorErrors.INVALID_JSON(err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return CoordinatorErrors.UNSUPPORTED_MEDIA_TYPE(err.message.replace(/^Unsupported Media Type:?\s*/i, '') || 'unknown');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return CoordinatorErrors.BODY_TOO_LARGE(limit);
  }
  if (err instanceof SyntaxError) return CoordinatorErrors.INVALID_JSON(err.message);
  if (err.validation) return CoordinatorErrors.BAD_REQUEST(err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new GridError('GRID_ERR_BAD_REQUEST', err.message, err.statusCode);
  return CoordinatorErrors.INTERNAL(err.message);
}

export async function buildHttp(ctx: HttpContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: ctx.bodyLimit, forceCloseConnections: true });
  const limiter = new RateLimiter(ctx.rateLimit, ctx.rateLimit);

  await app.register(swagger, {
    openapi: {
      info: { title: 'swarmgrid coordinator API', version: '1', description: 'Submit and follow batches of work units. See docs/API.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // NDJSON bodies are streamed: the route reads them line by line (no body limit applies).
  app.addContentTypeParser('application/x-ndjson', { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, _req, reply) => {
    const grid = toGridError(err as Error, ctx.bodyLimit);
    void reply.status(grid.statusCode).send({ code: grid.code, message: grid.message });
  });
  app.setNotFoundHandler((req, reply) => {
    const err = CoordinatorErrors.NOT_FOUND(req.method, req.url);
    void reply.status(404).send({ code: err.code, message: err.message });
  });

  const authenticate = (req: FastifyRequest): string => {
    const token = bearerOf(req.headers.authorization);
    const name = token ? verifyToken(ctx.store, token) : undefined;
    if (!name) throw CoordinatorErrors.UNAUTHORIZED();
    return name;
  };
  const guards = {
    /** Submitting and cancelling always need a token; submitting is rate limited. */
    write: async (req: FastifyRequest) => {
      req.submitter = authenticate(req);
    },
    submit: async (req: FastifyRequest) => {
      req.submitter = authenticate(req);
      const wait = limiter.take(req.submitter);
      if (wait > 0) throw CoordinatorErrors.RATE_LIMITED(wait);
    },
    /** Reading is public unless the coordinator runs with --private. */
    read: async (req: FastifyRequest) => {
      if (ctx.private) req.submitter = authenticate(req);
    },
  };

  registerBatchRoutes(app, ctx, guards);
  registerInfoRoutes(app, ctx, guards);
  return app;
}
