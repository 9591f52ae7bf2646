/**
 * GET /v1/workers publishes what a volunteer would agree to publish: its key, runtime, whether
 * it is connected, when it was seen, its reputation and its work. Its network address is
 * recorded (abuse protection) but shown to an operator's token only. A real coordinator in this
 * process with a connected raw WebSocket volunteer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volunteerKey } from '../../coordinator/websocket-channel.js';
import { browserHello, type LocalCoordinator, openVolunteer, request, startCoordinator, type Volunteer, volunteerId } from './helpers.js';

describe('GET /v1/workers', () => {
  let grid: LocalCoordinator;
  let v: Volunteer;
  const id = volunteerId();
  const key = volunteerKey(id);

  beforeAll(async () => {
    grid = await startCoordinator();
    v = await openVolunteer(grid.url, `?id=${id}`);
    v.send(browserHello(3));
    await v.next('welcome');
    // The worker's row is written with the next grouped commit.
    const deadline = Date.now() + 10_000;
    while (!grid.coordinator.store.listWorkers().some((w) => w.key === key)) {
      if (Date.now() > deadline) throw new Error('the volunteer was never recorded');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  afterAll(async () => {
    v?.ws.terminate();
    await grid?.close();
  });

  const workerIn = (res: { json: any }) => (res.json.workers as Record<string, unknown>[]).find((w) => w.key === key);

  it("the public view (no token, a submitter's, a join key) has no address; an operator's token sees it", async () => {
    // Recorded all the same: the scheduler keeps one address from voting twice on a unit.
    expect(grid.coordinator.store.listWorkers().find((w) => w.key === key)!.address).toBe('127.0.0.1');
    for (const role of [undefined, 'submitter', 'volunteer'] as const) {
      const res = await request(grid.url, 'GET', '/v1/workers', role ? { token: grid.token(role) } : {});
      expect(res.status, role).toBe(200);
      const w = workerIn(res)!;
      expect(w, role).toMatchObject({ runtime: 'browser', connected: true, threads: 3 });
      expect(w, role).not.toHaveProperty('address');
      expect(JSON.stringify(res.json), role).not.toContain('127.0.0.1');
      expect(Object.keys(w).sort(), role).toEqual(['connected', 'cpuSeconds', 'firstSeen', 'key', 'lastSeen', 'reputation', 'runtime', 'tasksDone', 'threads']);
    }
    const res = await request(grid.url, 'GET', '/v1/workers', { token: grid.token('operator') });
    expect(res.status).toBe(200);
    expect(workerIn(res)).toMatchObject({ key, runtime: 'browser', connected: true, address: '127.0.0.1' });
  });

  it('the OpenAPI document says so', async () => {
    const doc = (await request(grid.url, 'GET', '/docs/json')).json;
    const schema = doc.paths['/v1/workers'].get.responses['200'].content['application/json'].schema;
    expect(schema.properties.workers.items.properties.address.description).toMatch(/operator/);
  });
});
