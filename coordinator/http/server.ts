/**
 * The coordinator's HTTP API (Fastify). Every route has a JSON schema; every error leaves as
 * `{ code: 'GRID_ERR_…', message }`; OpenAPI is generated from the schemas and served at /docs.
 */
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { GridError } from '../../proto/errors.js';
import { CoordinatorErrors } from '../errors.js';
import { storageError } from '../storage-errors.js';
import { bearerOf, type Principal, RateLimiter, verifyToken } from './auth.js';
import { resolveBatchId } from './batch-ids.js';
import { registerBatchRoutes } from './batch-routes.js';
import type { HttpContext } from './context.js';
import { registerInfoRoutes } from './info-routes.js';
import type { Guards } from './schemas.js';
import { registerVolunteerRoutes } from './volunteer-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's valid token, once a guard has looked (absent: anonymous). */
    principal?: Principal;
    /** Set by the read guard: volunteers' addresses are shown to operators only. */
    seesAddresses?: boolean;
  }
}

/** How much of a refused request's body is read and dropped so that its client gets the answer. */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 10_000;

/** Reads and drops what is left of a request body, up to a size and a time. Never throws. */
async function drainBody(body: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  if (body.destroyed || body.readableEnded) return;
  let timer: NodeJS.Timeout | undefined;
  const read = (async () => {
    let seen = 0;
    try {
      // destroyOnReturn: false — stopping at the bound must leave the socket for the answer.
      for await (const chunk of body.iterator({ destroyOnReturn: false })) {
        seen += (chunk as Buffer).length;
        if (seen > maxBytes) return;
      }
    } catch {
      // The client went away: nothing to answer.
    }
  })();
  await Promise.race([read, new Promise<void>((r) => { timer = setTimeout(r, maxMs); })]);
  clearTimeout(timer);
}

/** Maps Fastify's own errors onto our catalogue so clients see one vocabulary. */
function toGridError(err: Error & { code?: string; statusCode?: number; validation?: unknown }, limit: number): GridError {
  if (err instanceof GridError) return err;
  // A full disk under the store is 507 GRID_ERR_STORAGE_FULL, not a bug.
  const stored = storageError(err, 'the store');
  if (stored instanceof GridError) return stored;
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
  // The client went away mid-upload: nobody reads the answer, and it is not our fault.
  if (err.code === 'ECONNRESET' || err.message === 'aborted') return CoordinatorErrors.BAD_REQUEST('the request was aborted by the client');
  if (err.validation) return CoordinatorErrors.BAD_REQUEST(err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new GridError('GRID_ERR_BAD_REQUEST', err.message, err.statusCode);
  return CoordinatorErrors.INTERNAL(err.message);
}

export async function buildHttp(ctx: HttpContext): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.bodyLimit,
    forceCloseConnections: true,
    // Fastify's default strips unknown fields silently; a misspelt field ("replicas") must be an error.
    ajv: { customOptions: { removeAdditional: false } },
    // Errors Fastify raises before routing (a URL that is not valid percent-encoding, /%ff%fe)
    // leave in our shape too, not Fastify's { error, statusCode }.
    frameworkErrors: (err, _req, reply) => {
      const grid = err.code === 'FST_ERR_BAD_URL'
        ? CoordinatorErrors.BAD_REQUEST(`the URL is not valid percent-encoded UTF-8: ${err.message}`)
        : toGridError(err, ctx.bodyLimit);
      void (reply as FastifyReply).status(grid.statusCode).send({ code: grid.code, message: grid.message });
    },
    // A request Node's HTTP parser cannot read (bad request line, oversized headers): answered
    // on the raw socket, still in our shape.
    clientErrorHandler: (err, socket) => {
      const tooLarge = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const body = JSON.stringify(tooLarge
        ? { code: 'GRID_ERR_BAD_REQUEST', message: 'request headers too large' }
        : { code: 'GRID_ERR_BAD_REQUEST', message: `malformed HTTP request: ${err.message}` });
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else socket.destroy();
    },
  });
  const limiter = new RateLimiter(ctx.rateLimit, ctx.rateLimit);

  await app.register(swagger, {
    openapi: {
      info: { title: 'swarmgrid coordinator API', version: '1', description: 'Submit and follow batches of work units. See docs/API.md; error codes in docs/ERRORS.md.' },
      tags: [
        { name: 'batches', description: 'Submit, follow, fetch and cancel batches' },
        { name: 'grid', description: 'Workers, job kinds, health and metrics' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from `swarmgrid token create`' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // NDJSON bodies are streamed: the route reads them line by line (no body limit applies).
  app.addContentTypeParser('application/x-ndjson', { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));

  app.setErrorHandler(async (err, req, reply) => {
    const grid = toGridError(err as Error, ctx.bodyLimit);
    // A bug, not a bad request: the caller sees the code, the operator needs the stack.
    if (grid.statusCode >= 500) process.stderr.write(`swarmgrid http: ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}\n`);
    if (grid.code === CoordinatorErrors.UNAUTHORIZED.code) void reply.header('www-authenticate', 'Bearer');
    if (grid.code === CoordinatorErrors.UPLOAD_STALLED.code) {
      // The client sends nothing: do not wait for the rest of its body. Answer, then hang up,
      // which frees the socket and whatever it buffered.
      void reply.header('connection', 'close');
      reply.raw.once('finish', () => req.raw.destroy());
    } else if (!req.raw.complete) {
      // Refused before its body was all received (a bad NDJSON line, a 401 on a big upload): a
      // client still uploading may not read the answer until its upload is done (undici fails
      // with EPIPE instead), so take in the rest, unread and bounded. Past the bound the
      // connection is closed, since the rest of that body must not be taken for a next request.
      await drainBody(req.raw, DRAIN_BYTES, DRAIN_MS);
      if (!req.raw.complete) void reply.header('connection', 'close');
    }
    return reply.status(grid.statusCode).send({ code: grid.code, message: grid.message });
  });
  app.setNotFoundHandler((req, reply) => {
    const err = CoordinatorErrors.NOT_FOUND(req.method, req.url);
    void reply.status(404).send({ code: err.code, message: err.message });
  });

  /** The request's token, when it has a valid one. */
  const identify = (req: FastifyRequest): Principal | undefined => {
    const token = bearerOf(req.headers.authorization);
    return token ? verifyToken(ctx.store, token) : undefined;
  };
  const authenticate = (req: FastifyRequest): Principal => {
    const who = identify(req);
    if (!who) throw CoordinatorErrors.UNAUTHORIZED();
    return who;
  };
  // Every role check of the API is here (roles: auth.ts). A volunteer token is a join key for
  // the volunteer WebSocket (volunteer-routes.ts checks it there) and nothing else.
  const guards: Guards = {
    /** Cancelling needs a token: a submitter's cancels its own batches only, an operator's any. */
    write: async (req) => {
      const who = authenticate(req);
      if (who.role === 'volunteer') throw CoordinatorErrors.FORBIDDEN(who.role, 'cancel batches');
      if (who.role === 'submitter') {
        const id = (req.params as { id?: string }).id;
        // Owners are token ids, not names: two tokens may share a name. An unknown batch is
        // left to the route (404).
        // The id may be a prefix (batch-ids.ts): the owner checked is that of the batch it names.
        const full = id === undefined ? undefined : resolveBatchId(ctx.store, id);
        const batch = full === undefined ? undefined : ctx.store.getBatch(full);
        if (batch && batch.owner !== who.id) throw CoordinatorErrors.FORBIDDEN(who.role, `cancel batch ${id}: another token submitted it`);
      }
      req.principal = who;
    },
    /** Submitting needs a submitter or operator token and is rate limited per token. */
    submit: async (req, reply) => {
      const who = authenticate(req);
      if (who.role === 'volunteer') throw CoordinatorErrors.FORBIDDEN(who.role, 'submit batches');
      req.principal = who;
      const wait = limiter.take(who.id);
      if (wait > 0) {
        void reply.header('retry-after', String(wait));
        throw CoordinatorErrors.RATE_LIMITED(wait);
      }
    },
    /**
     * Reading is public unless the coordinator runs with --private (then a submitter or operator
     * token). A token sent to a public coordinator is looked at, not required: an invalid one
     * reads as anonymous, an operator's also sees volunteers' addresses.
     */
    read: async (req) => {
      const who = ctx.private ? authenticate(req) : identify(req);
      if (ctx.private && who?.role === 'volunteer') throw CoordinatorErrors.FORBIDDEN(who.role, 'read a private coordinator');
      req.principal = who;
      req.seesAddresses = who?.role === 'operator';
    },
  };

  registerBatchRoutes(app, ctx, guards);
  registerInfoRoutes(app, ctx, guards);
  await registerVolunteerRoutes(app, ctx);
  return app;
}
