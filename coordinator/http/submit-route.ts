/**
 * POST /v1/batches: a batch as one JSON document, or as NDJSON (a header line, then one input
 * per line) for batches too big for one document. NDJSON bodies are never buffered: they stream
 * into the store a chunk at a time while the scheduler already dispatches what is in.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Json } from '../../jobs/types.js';
import type { InputChunk } from '../batch-inputs.js';
import { CoordinatorErrors } from '../errors.js';
import type { Submitted } from '../batches.js';
import { BodyHash, idempotencyKeyOf } from '../idempotency.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import type { HttpContext } from './context.js';
import { readNdjson } from './ndjson.js';
import { batchPreviewSchema, errorResponses, type Guards, submittedSchema } from './schemas.js';
import type { SubmittedView } from './shapes.js';

/** Longest NDJSON line; JSON documents are bounded by the body limit instead. */
export const MAX_NDJSON_LINE = 1024 * 1024;

const JSON_TYPE = 'application/json';
const NDJSON_TYPE = 'application/x-ndjson';

const submitBody = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 100, description: 'a job kind from GET /v1/kinds' },
    inputs: { type: 'array', minItems: 1, description: 'one input per work unit' },
    params: { type: 'object', description: "the kind's generator params (without inputs), or reducer params (with inputs)" },
    policy: { type: 'object', description: 'replication, quorum, lease, … (docs/API.md)' },
  },
} as const;

// No type: the route gets the body as a stream, which it parses itself (ndjsonSubmission).
const ndjsonBody = {
  description: 'line 1: {"kind", "policy"?, "params"?}; then one JSON input per line',
} as const;

interface SubmitBody {
  kind: string;
  inputs?: unknown[];
  params?: Json;
  policy?: unknown;
}

export function mediaType(header: string | undefined): string {
  return header ? header.split(';')[0]!.trim().toLowerCase() : '';
}

export function registerSubmitRoute(app: FastifyInstance, ctx: HttpContext, guards: Guards): void {
  // Refused before the body is read: nothing else will be parsed.
  const contentType = async (req: FastifyRequest) => {
    const type = mediaType(req.headers['content-type']);
    if (type !== JSON_TYPE && type !== NDJSON_TYPE) throw CoordinatorErrors.UNSUPPORTED_MEDIA_TYPE(type || '(none)');
  };

  // A JSON body is read by Fastify before the route runs: a client that stalls in the middle of
  // one is cut off by the socket's idle timeout (nothing is stored before the body is complete).
  const jsonIdle = async (req: FastifyRequest) => {
    if (mediaType(req.headers['content-type']) !== JSON_TYPE || req.raw.complete) return;
    const socket = req.raw.socket;
    socket.setTimeout(ctx.uploadIdleMs, () => {
      if (!req.raw.complete) socket.destroy();
    });
  };
  const idleOff = async (req: FastifyRequest) => {
    if (!req.raw.socket.destroyed) req.raw.socket.setTimeout(0);
  };

  app.post<{ Body: SubmitBody | NodeJS.ReadableStream; Querystring: { dryRun?: boolean } }>('/v1/batches', {
    // onRequest, not preHandler: a caller without a valid token is turned away before its body is read.
    onRequest: [guards.submit, contentType, jsonIdle],
    preHandler: idleOff,
    schema: {
      summary: 'Submit a batch (JSON, or NDJSON: a header line then one input per line)',
      tags: ['batches'],
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { dryRun: { type: 'boolean', default: false, description: 'check the batch and answer 200 with what it would run (params with defaults, policy, work-unit count); nothing is stored' } },
      },
      // JSON bodies are checked by the schema; NDJSON headers by checkSubmit (same rules).
      body: { content: { [JSON_TYPE]: { schema: submitBody }, [NDJSON_TYPE]: { schema: ndjsonBody } } },
      response: {
        201: { description: 'Every work unit is stored', ...submittedSchema },
        200: { description: 'dryRun=true: the batch is valid; what it would run', ...batchPreviewSchema },
        ...errorResponses(400, 401, 408, 409, 413, 415, 422, 429, 503),
      },
    },
  }, async (req, reply) => {
    const owner = req.principal!.id;
    if (req.query.dryRun) return reply.status(200).send({ dryRun: true, ...await ctx.batches.preview(await submissionOf(req, owner, ctx.uploadIdleMs)) });
    const key = idempotencyKeyOf(req.headers['idempotency-key']);
    const hash = new BodyHash();
    let done: Submitted;
    if (mediaType(req.headers['content-type']) === NDJSON_TYPE) {
      // destroyOnReturn: false — a bad line ends the reading, but the rest of the body must stay
      // readable: the error handler drains it so that the client gets the 400 (server.ts).
      const body = (req.body as Readable).iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
      const chunks = key ? hashed(idleBounded(body, ctx.uploadIdleMs), hash) : idleBounded(body, ctx.uploadIdleMs);
      const sub = await ndjsonSubmission(chunks, owner);
      done = key ? await ctx.batches.submit(sub, { key, owner, bodyHash: () => hash.digest() }) : { id: await ctx.batches.create(sub), replayed: false };
      // A replay stores nothing, but its body is read to the end: its hash must match the first try's.
      if (done.replayed) for await (const _ of chunks);
    } else {
      const body = req.body as SubmitBody;
      checkSubmit(body);
      if (key) hash.update(jsonText(body));
      const sub = {
        kind: body.kind, policy: body.policy, owner,
        ...(body.inputs && { inputs: body.inputs }),
        ...(body.params && { params: body.params }),
      };
      done = key ? await ctx.batches.submit(sub, { key, owner, bodyHash: () => hash.digest() }) : { id: await ctx.batches.create(sub), replayed: false };
    }
    if (done.replayed) {
      if (done.bodyHash && done.bodyHash !== hash.digest()) throw CoordinatorErrors.IDEMPOTENCY_MISMATCH(key!, done.id);
      void reply.header('idempotent-replayed', 'true');
    }
    const row = ctx.store.getBatch(done.id)!;
    const submitted: SubmittedView = { id: done.id, total: row.total, state: row.state };
    return reply.status(201).send(submitted);
  });
}

/** The submission a request carries, read as the route reads it, for a dry run (no key, no hash). */
async function submissionOf(req: FastifyRequest, owner: string, idleMs: number) {
  if (mediaType(req.headers['content-type']) === NDJSON_TYPE) {
    const body = (req.body as Readable).iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
    return ndjsonSubmission(idleBounded(body, idleMs), owner);
  }
  const body = req.body as SubmitBody;
  checkSubmit(body);
  return { kind: body.kind, policy: body.policy, owner, ...(body.inputs && { inputs: body.inputs }), ...(body.params && { params: body.params }) };
}

/** The body as text, for its hash; one nested past any stack (params and policy are checked already) is the caller's error. */
function jsonText(body: SubmitBody): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    if (err instanceof RangeError) throw CoordinatorErrors.BAD_REQUEST('the body nests too deeply');
    throw err;
  }
}

/** Passes a body's chunks through, hashing them (the Idempotency-Key's body hash). */
async function* hashed(body: AsyncIterable<Buffer>, hash: BodyHash): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * The body's chunks, ended with GRID_ERR_UPLOAD_STALLED when none arrives for `idleMs`: a client
 * frozen mid-body would otherwise keep its batch `loading`, its socket and its buffers for good.
 * Only the wait for the network counts, not the time spent storing what came.
 */
async function* idleBounded(body: AsyncIterator<Buffer>, idleMs: number): AsyncGenerator<Buffer> {
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(CoordinatorErrors.UPLOAD_STALLED(idleMs / 1000)), idleMs);
    });
    try {
      const next = await Promise.race([body.next(), stalled]);
      if (next.done) return;
      yield next.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Reads the header line and hands the rest of the body on as input chunks, still unread. */
async function ndjsonSubmission(body: AsyncIterable<Buffer>, owner: string) {
  const chunks = readNdjson(body, MAX_NDJSON_LINE);
  const first = await chunks.next();
  if (first.done) throw CoordinatorErrors.NDJSON_LINE(1, 'missing header line {"kind": ..., "policy": ...}');
  const header = first.value.values[0] as SubmitBody;
  const headerLine = first.value.lines[0]!;
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw CoordinatorErrors.NDJSON_LINE(headerLine, 'the header must be an object {"kind", "policy"?, "params"?}');
  try {
    checkSubmit(header, true);
  } catch (err) {
    throw CoordinatorErrors.NDJSON_LINE(headerLine, (err as Error).message);
  }
  const rest: InputChunk = { values: first.value.values.slice(1), lines: first.value.lines.slice(1) };
  async function* inputChunks(): AsyncGenerator<InputChunk> {
    if (rest.values.length > 0) yield rest;
    yield* chunks;
  }
  return { kind: header.kind, policy: header.policy, owner, inputChunks: inputChunks(), ...(header.params && { params: header.params }) };
}

/** Hand-written check of a submission (JSON body or NDJSON header), same rules as submitBody. */
function checkSubmit(body: SubmitBody, header = false): void {
  const allowed = header ? ['kind', 'policy', 'params'] : Object.keys(submitBody.properties);
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw CoordinatorErrors.BAD_REQUEST(`unknown field "${key}"${header ? ' in the NDJSON header (inputs follow on the next lines)' : ''}`);
  }
  if (typeof body.kind !== 'string' || body.kind.length === 0) throw CoordinatorErrors.BAD_REQUEST('"kind" must be a non-empty string');
  if (body.inputs !== undefined && (!Array.isArray(body.inputs) || body.inputs.length === 0)) throw CoordinatorErrors.BAD_REQUEST('"inputs" must be a non-empty array');
  for (const key of ['params', 'policy'] as const) {
    const v = body[key];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) throw CoordinatorErrors.BAD_REQUEST(`"${key}" must be an object`);
    if (v !== undefined && nestsDeeperThan(v, MAX_JSON_DEPTH)) throw CoordinatorErrors.BAD_REQUEST(`"${key}" nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
}
