/** /v1/batches: submit, list, follow, fetch results and artifacts, cancel. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { decodeOutput } from '../../jobs/codec.js';
import type { Json } from '../../jobs/types.js';
import { CoordinatorErrors } from '../errors.js';
import type { HttpContext } from './context.js';
import { readNdjson } from './ndjson.js';
import { errorSchema, type Guards } from './schemas.js';
import { batchView } from './views.js';

const MAX_NDJSON_LINE = 1024 * 1024;

const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const batchViewSchema = { type: 'object', additionalProperties: true } as const;
const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema, 429: errorSchema };

const submitBody = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 100 },
    inputs: { type: 'array', minItems: 1 },
    params: { type: 'object' },
    policy: { type: 'object' },
  },
} as const;

interface SubmitBody {
  kind: string;
  inputs?: unknown[];
  params?: Json;
  policy?: unknown;
}

export function registerBatchRoutes(app: FastifyInstance, ctx: HttpContext, guards: Guards): void {
  const find = (id: string) => {
    const row = ctx.store.getBatch(id);
    if (!row) throw CoordinatorErrors.BATCH_NOT_FOUND(id);
    return row;
  };

  app.post<{ Body: SubmitBody | NodeJS.ReadableStream }>('/v1/batches', {
    preHandler: guards.submit,
    schema: {
      summary: 'Submit a batch (JSON, or NDJSON: a header line then one input per line)',
      security: [{ bearer: [] }],
      // JSON bodies are checked by the schema; NDJSON headers by checkSubmit (same rules).
      body: { content: { 'application/json': { schema: submitBody }, 'application/x-ndjson': { schema: {} } } },
      response: { 201: { type: 'object', properties: { id: { type: 'string' }, total: { type: 'integer' }, state: { type: 'string' } } }, ...errors },
    },
  }, async (req, reply) => {
    let id: string;
    if (isNdjson(req.headers['content-type'])) {
      const lines = readNdjson(req.body as AsyncIterable<Buffer>, MAX_NDJSON_LINE);
      const first = await lines.next();
      if (first.done) throw CoordinatorErrors.NDJSON_LINE(1, 'missing header line {"kind": ..., "policy": ...}');
      const header = first.value.value as SubmitBody;
      if (!header || typeof header !== 'object' || Array.isArray(header)) throw CoordinatorErrors.NDJSON_LINE(1, 'header must be an object');
      checkSubmit(header, true);
      async function* inputs() {
        for await (const { value } of lines) yield value;
      }
      id = await ctx.batches.create({ kind: header.kind, inputs: inputs(), policy: header.policy, owner: req.submitter! });
    } else {
      const body = req.body as SubmitBody;
      checkSubmit(body);
      id = await ctx.batches.create({
        kind: body.kind, policy: body.policy, owner: req.submitter!,
        ...(body.inputs ? { inputs: body.inputs } : { params: body.params ?? {} }),
      });
    }
    const row = find(id);
    return reply.status(201).send({ id, total: row.total, state: row.state });
  });

  app.get<{ Querystring: { limit?: number } }>('/v1/batches', {
    preHandler: guards.read,
    schema: {
      summary: 'List batches, newest first',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'object', properties: { batches: { type: 'array', items: batchViewSchema } } }, ...errors },
    },
  }, async (req) => ({
    batches: ctx.store.listBatches(req.query.limit ?? 100).map((row) => batchView(row, ctx.scheduler.batches.get(row.id))),
  }));

  app.get<{ Params: { id: string } }>('/v1/batches/:id', {
    preHandler: guards.read,
    schema: { summary: 'Batch state, counts per state, progress, rate and ETA', params: idParams, response: { 200: batchViewSchema, ...errors } },
  }, async (req) => batchView(find(req.params.id), ctx.scheduler.batches.get(req.params.id)));

  app.get<{ Params: { id: string }; Querystring: { after?: number; limit?: number } }>('/v1/batches/:id/results', {
    preHandler: guards.read,
    schema: {
      summary: 'Decided work units as NDJSON, in work-unit order (?after=SEQ to resume)',
      params: idParams,
      querystring: {
        type: 'object',
        properties: { after: { type: 'integer', minimum: -1, default: -1 }, limit: { type: 'integer', minimum: 1 } },
      },
      produces: ['application/x-ndjson'],
      response: { ...errors },
    },
  }, async (req, reply) => {
    const row = find(req.params.id);
    const entry = ctx.catalog.get(row.kind);
    let after = req.query.after ?? -1;
    let left = req.query.limit ?? Number.MAX_SAFE_INTEGER;
    async function* lines() {
      while (left > 0) {
        const rows = ctx.store.results(row.id, after, Math.min(1000, left));
        for (const r of rows) {
          after = r.seq;
          left--;
          const output = r.output && entry ? decodeOutput(entry.kind, r.output) : null;
          yield JSON.stringify({
            seq: r.seq,
            state: r.state,
            ...(r.state === 'validated'
              ? { output: output instanceof Uint8Array ? Buffer.from(output).toString('base64') : output, agreed: r.agreed }
              : { reason: r.fail_reason }),
          }) + '\n';
        }
        if (rows.length < 1000) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return reply.type('application/x-ndjson').send(Readable.from(lines()));
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id/artifact', {
    preHandler: guards.read,
    schema: { summary: "The batch's reduced artifact (image, table, estimate)", params: idParams, response: { ...errors } },
  }, async (req, reply) => {
    const row = find(req.params.id);
    const artifact = ctx.store.getArtifact(row.id);
    if (!artifact) throw CoordinatorErrors.NO_ARTIFACT(row.id, row.state);
    return reply
      .type(artifact.artifact_type)
      .header('content-disposition', `attachment; filename="${artifact.artifact_name}"`)
      .send(artifact.artifact);
  });

  app.delete<{ Params: { id: string } }>('/v1/batches/:id', {
    preHandler: guards.write,
    schema: { summary: 'Cancel a batch; its outstanding tasks are cancelled at the workers', security: [{ bearer: [] }], params: idParams, response: { 200: batchViewSchema, ...errors } },
  }, async (req) => {
    find(req.params.id);
    return batchView(ctx.batches.cancel(req.params.id), undefined);
  });
}

function isNdjson(contentType: string | undefined): boolean {
  return !!contentType && contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-ndjson';
}

/** Hand-written check of a submission (JSON body or NDJSON header), same rules as submitBody. */
function checkSubmit(body: SubmitBody, header = false): void {
  const allowed = header ? ['kind', 'policy', 'params'] : Object.keys(submitBody.properties);
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw CoordinatorErrors.BAD_REQUEST(`unknown field "${key}"${header ? ' in the NDJSON header' : ''}`);
  }
  if (typeof body.kind !== 'string' || body.kind.length === 0) throw CoordinatorErrors.BAD_REQUEST('"kind" must be a non-empty string');
  if (body.inputs !== undefined && (!Array.isArray(body.inputs) || body.inputs.length === 0)) throw CoordinatorErrors.BAD_REQUEST('"inputs" must be a non-empty array');
  if (body.inputs !== undefined && body.params !== undefined) throw CoordinatorErrors.BAD_REQUEST('send either "inputs" or "params", not both');
  for (const key of ['params', 'policy'] as const) {
    const v = body[key];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) throw CoordinatorErrors.BAD_REQUEST(`"${key}" must be an object`);
  }
}
