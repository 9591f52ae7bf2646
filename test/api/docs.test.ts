/**
 * The API documents itself and stays documented: Swagger UI at /docs, OpenAPI at /docs/json, every
 * route in it with a schema and listed in docs/API.md, and every GRID_ERR_* code of the catalogues
 * in docs/ERRORS.md (and nothing else there).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { request } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(ROOT + path, 'utf8');
const CATALOGUES = ['proto/errors.ts', 'coordinator/errors.ts', 'worker/errors.ts'];

const grid = new TestGrid();
let coord: CoordinatorProcess;
let openapi: { openapi: string; paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>> };

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  openapi = (await request(coord, 'GET', '/docs/json')).json;
});
afterAll(() => grid.close());

/** `METHOD /path` of every operation, with OpenAPI's `{id}` written as `:id` (Fastify's and the docs' style). */
function operations(): string[] {
  return Object.entries(openapi.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
}

describe('/docs', () => {
  it('serves the Swagger UI', async () => {
    const res = await fetch(`${coord.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/swagger-ui/i);
    // Its script and stylesheet are served too (no CDN).
    const asset = /(?:src|href)="\.?\/?([^"]*swagger-ui[^"]*\.(?:js|css))"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await fetch(`${coord.url}/docs/${asset!.replace(/^docs\//, '')}`)).status).toBe(200);
  });

  it('serves the OpenAPI document, every API route in it with a summary and its responses', () => {
    expect(openapi.openapi).toMatch(/^3\./);
    const ops = operations();
    for (const op of ['POST /v1/batches', 'GET /v1/batches', 'GET /v1/batches/:id', 'DELETE /v1/batches/:id', 'GET /v1/batches/:id/results',
      'GET /v1/batches/:id/artifact', 'GET /v1/workers', 'GET /v1/kinds', 'GET /healthz', 'GET /metrics']) {
      expect(ops).toContain(op);
    }
    for (const [path, methods] of Object.entries(openapi.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.summary, `${method} ${path} has a summary`).toBeTruthy();
        const statuses = Object.keys(op.responses ?? {});
        expect(statuses.some((s) => s.startsWith('2')), `${method} ${path} documents its success`).toBe(true);
      }
    }
    // Errors have one documented shape.
    const submit = openapi.paths['/v1/batches']!.post!.responses!['400'] as { content: Record<string, { schema: { required: string[] } }> };
    expect(submit.content['application/json']!.schema.required).toEqual(['code', 'message']);
  });
});

describe('docs/API.md', () => {
  it('lists every route the coordinator serves', () => {
    const doc = read('docs/API.md');
    const missing = operations().filter((op) => !doc.includes(`\`${op}\``));
    expect(missing).toEqual([]);
  });
});

describe('docs/ERRORS.md', () => {
  const defined = new Set<string>();
  for (const file of CATALOGUES) {
    // Comments left out: proto/errors.ts shows `createError('GRID_ERR_X', …)` as an example.
    const code = read(file).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/createError\(\s*'(GRID_ERR_[A-Z0-9_]+)'/g)) defined.add(m[1]!);
  }
  const documented = new Set([...read('docs/ERRORS.md').matchAll(/`(GRID_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]!));

  it('lists every GRID_ERR_* code defined in proto/, coordinator/ and worker/errors.ts', () => {
    expect(defined.size).toBeGreaterThan(30);
    expect([...defined].filter((c) => !documented.has(c))).toEqual([]);
  });

  it('lists no code that does not exist', () => {
    expect([...documented].filter((c) => !defined.has(c))).toEqual([]);
  });

  it('every code the API answers with is in the catalogue', async () => {
    // A few real answers, as a check that the catalogue is what goes out.
    const answers = await Promise.all([
      request(coord, 'GET', '/v1/nope'),
      request(coord, 'GET', '/v1/batches/abc'),
      request(coord, 'POST', '/v1/batches', { contentType: 'application/json', body: '{}' }),
      request(coord, 'POST', '/v1/batches', { token: coord.token, contentType: 'application/json', body: '{' }),
    ]);
    for (const a of answers) expect(defined.has(a.json.code), a.json.code).toBe(true);
  });
});
