/** /v1/batches: list, follow, fetch results and artifacts, cancel (submission: submit-route.ts). */
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeOutput } from '../../jobs/codec.js';
import type { JobKind } from '../../jobs/types.js';
import { latestDecline, UNTRUSTED_CODE } from '../declines.js';
import { CoordinatorErrors } from '../errors.js';
import { STORED_BATCH_STATES, type StoredBatchState } from '../states.js';
import type { BatchRow, OutcomeRow } from '../store/index.js';
import { resolveBatchId } from './batch-ids.js';
import type { HttpContext } from './context.js';
import { batchViewSchema, errorResponses, type Guards } from './schemas.js';
import { registerSubmitRoute } from './submit-route.js';
import { batchView, decisionsOpen, waitingNote } from './views.js';

/** Results read from the store per query and written per chunk of the response. */
const RESULTS_PAGE = 1000;
/**
 * A chunk of the results stream is cut at about this many bytes, and a query reads fewer rows when
 * lines are big: with backpressure (one chunk queued), a reader costs about two chunks of memory
 * whatever its speed and however big the outputs.
 */
const RESULTS_CHUNK_BYTES = 64 * 1024;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, description: 'batch id, or a unique prefix of at least 6 of its hex digits' } },
  required: ['id'],
} as const;

export function registerBatchRoutes(app: FastifyInstance, ctx: HttpContext, guards: Guards): void {
  const localGrid = ctx.scheduler.networks.options.independence === 'identity';
  // Why volunteers said no to a kind: the latest decline recorded (declines.ts), else, for the
  // untrusting node workers that will decline it once offered, what they will say.
  const declineReason = (kind: string, custom: boolean) => latestDecline(ctx.store, kind)
    ?? (custom ? `${UNTRUSTED_CODE}: custom code runs only on workers started with --trust ${ctx.publicKey}` : undefined);
  const view = (row: BatchRow) => {
    const ledger = ctx.batches.ledger(row.id);
    return batchView(row, ledger, waitingNote(ledger, ctx.sessions(), localGrid, declineReason));
  };
  // The id in the path may be a unique prefix (batch-ids.ts).
  const find = (id: string) => {
    const full = resolveBatchId(ctx.store, id);
    const row = full === undefined ? undefined : ctx.store.getBatch(full);
    if (!row) throw CoordinatorErrors.BATCH_NOT_FOUND(id);
    return row;
  };

  registerSubmitRoute(app, ctx, guards);

  // Streaming reads served at once, bounded: each holds a socket, a store cursor's page and its
  // chunks. A reader that takes nothing for the idle timeout is dropped, so stalled readers
  // cannot hold the slots for good.
  let readers = 0;
  const admitReader = (req: FastifyRequest, reply: FastifyReply) => {
    if (readers >= ctx.maxReaders) {
      void reply.header('retry-after', '1');
      throw CoordinatorErrors.TOO_MANY_READERS(ctx.maxReaders, 1);
    }
    readers++;
    // A real TCP socket (an injected request, as in tests, has a stand-in without timeouts).
    const socket = req.raw.socket as typeof req.raw.socket | undefined;
    const idle = typeof socket?.setTimeout === 'function';
    if (idle) socket.setTimeout(ctx.uploadIdleMs, () => socket.destroy());
    reply.raw.once('close', () => {
      readers--;
      if (idle && !socket.destroyed) socket.setTimeout(0);
    });
  };

  app.get<{ Querystring: { limit: number; state?: string } }>('/v1/batches', {
    onRequest: guards.read,
    schema: {
      summary: 'List batches, newest first',
      tags: ['batches'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          state: { type: 'string', enum: STORED_BATCH_STATES },
        },
      },
      response: { 200: { type: 'object', properties: { batches: { type: 'array', items: batchViewSchema } } }, ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const rows = req.query.state ? ctx.store.listBatches(req.query.limit, [req.query.state as StoredBatchState]) : ctx.store.listBatches(req.query.limit);
    return { batches: rows.map(view) };
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id', {
    onRequest: guards.read,
    schema: {
      summary: 'Batch state, counts per state, progress, rate and ETA',
      tags: ['batches'],
      params: idParams,
      response: { 200: batchViewSchema, ...errorResponses(400, 401, 404) },
    },
  }, async (req) => view(find(req.params.id)));

  app.get<{ Params: { id: string }; Querystring: { after: number; limit?: number } }>('/v1/batches/:id/results', {
    onRequest: guards.read,
    schema: {
      summary: 'Decided work units as NDJSON, in work-unit order, up to the first undecided one (?after=SEQ to resume)',
      tags: ['batches'],
      params: idParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          after: { type: 'integer', minimum: -1, default: -1, description: 'resume after this seq (the last one received)' },
          limit: { type: 'integer', minimum: 1, description: 'at most this many lines' },
        },
      },
      produces: ['application/x-ndjson'],
      response: {
        200: {
          description: 'One JSON object per line: {"seq", "state": "validated", "output", "agreed"} or {"seq", "state": "failed", "reason"}',
          content: { 'application/x-ndjson': { schema: { type: 'string' } } },
        },
        ...errorResponses(400, 401, 404, 429),
      },
    },
  }, async (req, reply) => {
    const row = find(req.params.id);
    admitReader(req, reply);
    const kind = ctx.catalog.get(row.kind)?.kind;
    let after = req.query.after;
    let left = req.query.limit ?? Number.MAX_SAFE_INTEGER;
    // While the batch runs, a unit accepted on a single unchecked copy (adaptive replication) can
    // still be reopened and re-decided: the stream holds back at it as at an undecided unit.
    const open = decisionsOpen(row);
    // Start small: a query's rows stay in memory while their chunks wait for a slow reader, and
    // a thousand 8 KB outputs would be 8 MB per reader. Grows to RESULTS_PAGE for small lines.
    let pageRows = 32;
    // One string per chunk, not per line: a million lines would otherwise be a million stream chunks.
    async function* pages(): AsyncGenerator<string> {
      for (;;) {
        const rows = ctx.store.outcomes(row.id, after, pageRows);
        let page = '';
        let bytes = 0;
        for (const r of rows) {
          if (page.length >= RESULTS_CHUNK_BYTES) {
            bytes += page.length;
            yield page;
            page = '';
          }
          // The stream stops at the first unit whose decision can still change, so that `after`
          // is always a safe place to resume: nothing before it can change.
          if (r.state === 'pending' || (open && r.state === 'validated' && r.provisional === 1)) {
            if (page) yield page;
            return;
          }
          after = r.seq;
          if (r.state === 'cancelled') continue;
          page += resultLine(r, kind);
          if (--left === 0) break;
        }
        bytes += page.length;
        if (page) yield page;
        if (rows.length < pageRows || left === 0) return;
        // Rows for about one chunk next time: many small lines, or few big ones.
        pageRows = Math.max(1, Math.min(RESULTS_PAGE, Math.floor(RESULTS_CHUNK_BYTES / Math.max(1, bytes / rows.length))));
        await yieldToLoop(); // let workers' results in between pages of a long stream
      }
    }
    // highWaterMark 1: one chunk waits while the socket is full, not 16 (Readable.from's default).
    return reply.type('application/x-ndjson').send(Readable.from(pages(), { highWaterMark: 1 }));
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id/artifact', {
    onRequest: guards.read,
    schema: {
      summary: "The batch's reduced artifact (image, table, estimate), once it is completed",
      tags: ['batches'],
      params: idParams,
      produces: ['application/octet-stream'],
      response: {
        200: { description: 'The artifact bytes, with its content type and a content-disposition file name', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses(400, 401, 404, 409, 429),
      },
    },
  }, async (req, reply) => {
    const row = find(req.params.id);
    admitReader(req, reply);
    const artifact = ctx.store.getArtifact(row.id);
    if (!artifact) throw CoordinatorErrors.NO_ARTIFACT(row.id, row.state);
    // File names come from job kinds, custom ones included: keep the header well-formed.
    const fileName = artifact.artifact_name.replace(/[^\w.-]/g, '_');
    return reply
      .type(artifact.artifact_type)
      .header('content-disposition', `attachment; filename="${fileName}"`)
      .send(artifact.artifact);
  });

  app.delete<{ Params: { id: string } }>('/v1/batches/:id', {
    onRequest: guards.write,
    schema: {
      summary: 'Cancel a batch; its outstanding tasks are cancelled at the workers',
      tags: ['batches'],
      security: [{ bearer: [] }],
      params: idParams,
      response: { 200: batchViewSchema, ...errorResponses(400, 401, 404, 409) },
    },
  }, async (req) => batchView(ctx.batches.cancel(find(req.params.id).id), undefined));
}

/** One NDJSON line of the results stream. */
function resultLine(r: OutcomeRow, kind: JobKind | undefined): string {
  if (r.state !== 'validated') return JSON.stringify({ seq: r.seq, state: r.state, reason: r.fail_reason }) + '\n';
  let output: unknown = null;
  let encoding: 'base64' | undefined;
  if (r.output) {
    try {
      // Decoded and re-encoded, never spliced in as stored: bytes from a worker must not be able
      // to break the NDJSON framing.
      output = kind ? decodeOutput(kind, r.output) : r.output;
    } catch {
      output = r.output;
    }
    if (output instanceof Uint8Array) {
      output = Buffer.from(output.buffer, output.byteOffset, output.byteLength).toString('base64');
      encoding = 'base64';
    }
  }
  return JSON.stringify({ seq: r.seq, state: r.state, output, agreed: r.agreed, ...(encoding && { encoding }) }) + '\n';
}
