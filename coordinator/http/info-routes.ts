/** Workers, job kinds, health and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { errorResponses, type Guards, healthSchema, kindViewSchema, workerViewSchema } from './schemas.js';
import type { HealthView, KindView } from './shapes.js';
import { workerView } from './views.js';

export function registerInfoRoutes(app: FastifyInstance, ctx: HttpContext, guards: Guards): void {
  app.get('/v1/workers', {
    onRequest: guards.read,
    schema: {
      summary: "Workers seen by this coordinator, with reputation (addresses for an operator's token only)",
      security: [{}, { bearer: [] }],
      tags: ['grid'],
      response: { 200: { type: 'object', properties: { workers: { type: 'array', items: workerViewSchema } } }, ...errorResponses(401) },
    },
  }, async (req) => {
    const connected = new Map<string, number>();
    for (const s of ctx.sessions()) if (s.welcomed) connected.set(s.key, (connected.get(s.key) ?? 0) + s.threads);
    const withAddress = req.seesAddresses === true;
    return { workers: ctx.store.listWorkers().map((row) => ({ ...workerView(row, connected.has(row.key), withAddress), threads: connected.get(row.key) ?? 0 })) };
  });

  app.get('/v1/kinds', {
    onRequest: guards.read,
    schema: {
      summary: 'Job kinds this coordinator offers, with their batch params and defaults',
      tags: ['grid'],
      response: { 200: { type: 'object', properties: { kinds: { type: 'array', items: kindViewSchema } } }, ...errorResponses(401) },
    },
  }, async () => ({
    kinds: (await ctx.catalog.listCurrent()).map(({ kind, codeHash }): KindView => ({
      name: kind.name,
      version: kind.version,
      description: kind.description,
      custom: codeHash !== null,
      runtime: codeHash === null ? 'builtin' : kind.sandbox?.type === 'wasm' ? 'wasm' : 'js',
      output: kind.output,
      comparator: kind.comparator?.type ?? 'exact',
      reducer: !!kind.reducer,
      generator: typeof kind.generate === 'function',
      params: [...(kind.params ?? [])],
    })),
  }));

  // Public even with --private: load balancers and supervisors probe it without a token.
  app.get('/healthz', {
    schema: {
      summary: 'Liveness and a few vital signs',
      tags: ['grid'],
      response: { 200: healthSchema },
    },
  }, async (): Promise<HealthView> => ({
    status: 'ok',
    coordinator: ctx.publicKey,
    grid: ctx.grid,
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    workers: [...ctx.sessions()].filter((s) => s.welcomed).length,
    activeBatches: ctx.scheduler.batches.size,
  }));

  app.get('/metrics', {
    onRequest: guards.read,
    schema: {
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      tags: ['grid'],
      produces: ['text/plain'],
      response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses(401) },
    },
  }, async (_req, reply) => {
    const s = ctx.scheduler.stats;
    const sessions = [...ctx.sessions()].filter((x) => x.welcomed);
    const byState = ctx.store.batchCountsByState();
    const mem = process.memoryUsage();
    const lines = [
      metric('swarmgrid_tasks_issued_total', 'counter', 'Tasks issued to workers', s.issued),
      metric('swarmgrid_results_total', 'counter', 'Task results received', s.results),
      metric('swarmgrid_task_errors_total', 'counter', 'Tasks that failed at the worker', s.errors),
      metric('swarmgrid_leases_expired_total', 'counter', 'Leases that ran out', s.expired),
      metric('swarmgrid_tasks_abandoned_total', 'counter', 'Tasks handed back by workers', s.abandoned),
      metric('swarmgrid_work_units_validated_total', 'counter', 'Work units that reached a quorum', s.validated),
      metric('swarmgrid_work_units_failed_total', 'counter', 'Work units given up on', s.failed),
      metric('swarmgrid_leases_outstanding', 'gauge', 'Tasks out at workers', ctx.scheduler.leases.size),
      metric('swarmgrid_workers_connected', 'gauge', 'Connected workers', sessions.length),
      metric('swarmgrid_worker_threads', 'gauge', 'Threads of connected workers', sessions.reduce((n, x) => n + x.threads, 0)),
      '# HELP swarmgrid_batches Batches by state',
      '# TYPE swarmgrid_batches gauge',
      ...byState.map((b) => `swarmgrid_batches{state="${b.state}"} ${b.n}`),
      metric('swarmgrid_store_commits_total', 'counter', 'Grouped store transactions', ctx.store.commits),
      metric('swarmgrid_work_units_ingested_total', 'counter', 'Work units stored from submissions', ctx.batches.stats.ingested),
      metric('process_resident_memory_bytes', 'gauge', 'Resident set size', mem.rss),
    ];
    return reply.type('text/plain; version=0.0.4').send(lines.join('\n') + '\n');
  });
}

function metric(name: string, type: 'counter' | 'gauge', help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}`;
}
