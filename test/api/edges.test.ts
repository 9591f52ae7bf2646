/**
 * The HTTP edges (issue 12, case 16): whatever arrives, the answer is a 4xx in our
 * `{ code: 'GRID_ERR_…', message }` shape with a documented code, never a 5xx nor Fastify's own
 * shape nor an empty body. One real coordinator process; the test walks a list of bad requests,
 * plus one the HTTP parser itself refuses, sent on a raw socket.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { request } from './helpers.js';

const grid = new TestGrid();
let coord: CoordinatorProcess;
const documented = new Set([...readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8').matchAll(/`(GRID_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]!));

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
});
afterAll(() => grid.close());

/** `{"a":{"a":…{}…}}`, `depth` objects deep, built as text (a recursive stringify would overflow here too). */
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

interface Edge {
  name: string;
  method: string;
  path: string;
  contentType?: string;
  body?: string;
  status: number;
  code: string;
}

const edges: Edge[] = [
  { name: 'params nested 4,500 deep (JSON)', method: 'POST', path: '/v1/batches', contentType: 'application/json', body: `{"kind":"echo","params":${deepObject(4500)}}`, status: 400, code: 'GRID_ERR_BAD_REQUEST' },
  { name: 'policy nested 4,500 deep (JSON)', method: 'POST', path: '/v1/batches', contentType: 'application/json', body: `{"kind":"echo","params":{"workUnits":1},"policy":${deepObject(4500)}}`, status: 400, code: 'GRID_ERR_BAD_REQUEST' },
  { name: 'params nested 4,500 deep (NDJSON header)', method: 'POST', path: '/v1/batches', contentType: 'application/x-ndjson', body: `{"kind":"echo","params":${deepObject(4500)}}\n{"a":1}\n`, status: 400, code: 'GRID_ERR_NDJSON_LINE' },
  { name: 'an input nested 4,500 deep (object)', method: 'POST', path: '/v1/batches', contentType: 'application/json', body: `{"kind":"echo","inputs":[${deepObject(4500)}]}`, status: 400, code: 'GRID_ERR_INVALID_INPUT' },
  { name: 'an input nested 4,500 deep (array in an object)', method: 'POST', path: '/v1/batches', contentType: 'application/x-ndjson', body: `{"kind":"echo"}\n{"a":${deepArray(4500)}}\n`, status: 400, code: 'GRID_ERR_INVALID_INPUT' },
  { name: 'an id that is not valid percent-encoding', method: 'GET', path: '/v1/batches/%ff%fe', status: 400, code: 'GRID_ERR_BAD_REQUEST' },
  { name: 'results of an id that is not valid percent-encoding', method: 'GET', path: '/v1/batches/%ff%fe/results', status: 400, code: 'GRID_ERR_BAD_REQUEST' },
  { name: 'cancel of an id that is not valid percent-encoding', method: 'DELETE', path: '/v1/batches/%C0%AF', status: 400, code: 'GRID_ERR_BAD_REQUEST' },
  { name: 'a 65-character id', method: 'GET', path: `/v1/batches/${'a'.repeat(65)}`, status: 400, code: 'GRID_ERR_BAD_REQUEST' },
  { name: 'a 64-character id nobody has', method: 'GET', path: `/v1/batches/${'a'.repeat(64)}`, status: 404, code: 'GRID_ERR_BATCH_NOT_FOUND' },
  { name: 'the volunteer WebSocket without Upgrade', method: 'GET', path: '/v1/volunteer', status: 426, code: 'GRID_ERR_UPGRADE_REQUIRED' },
  { name: 'the volunteer WebSocket without Upgrade, with a query', method: 'GET', path: `/v1/volunteer?id=${'0'.repeat(64)}`, status: 426, code: 'GRID_ERR_UPGRADE_REQUIRED' },
  { name: 'an unknown route', method: 'GET', path: '/v1/nothing-here', status: 404, code: 'GRID_ERR_NOT_FOUND' },
  { name: 'an unknown method on a known path', method: 'PUT', path: '/v1/batches', status: 404, code: 'GRID_ERR_NOT_FOUND' },
  { name: 'an unknown route under a batch', method: 'GET', path: '/v1/batches/abc/nothing', status: 404, code: 'GRID_ERR_NOT_FOUND' },
];

describe('HTTP edges answer in our shape', () => {
  for (const edge of edges) {
    it(`${edge.name} → ${edge.status} ${edge.code}`, async () => {
      const res = await request(coord, edge.method, edge.path, {
        token: coord.token,
        ...(edge.contentType && { contentType: edge.contentType }),
        ...(edge.body !== undefined && { body: edge.body }),
      });
      expect({ status: res.status, body: res.json }).toEqual({ status: edge.status, body: { code: edge.code, message: expect.any(String) } });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(documented.has(res.json.code)).toBe(true);
    });
  }

  it('a request the HTTP parser refuses → 400 GRID_ERR_BAD_REQUEST on the raw socket', async () => {
    const { port, hostname } = new URL(coord.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write('GET /v1/batches HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve(text)).on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { code: string; message: string };
    expect(body).toEqual({ code: 'GRID_ERR_BAD_REQUEST', message: expect.any(String) });
  });

  it('the coordinator is still up and logged no internal error', async () => {
    expect(coord.running).toBe(true);
    expect((await request(coord, 'GET', '/healthz')).status).toBe(200);
    expect(coord.stderr.join('')).not.toMatch(/GRID_ERR_INTERNAL|swarmgrid http:/);
  });
});
