/**
 * Who may open the volunteer WebSocket. A page from another site must not be able to enlist its
 * visitors' browsers (Origin check: the coordinator's own page and --allow-origin values only),
 * and a --private coordinator admits only holders of a token (a volunteer join key or any other
 * role), refusing everyone else before a single frame is read. Raw `ws` clients speaking the
 * protocol against real coordinators in this process.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { volunteerKey } from '../../coordinator/websocket-channel.js';
import { hasChromium, launchChromium } from '../browser/chromium.js';
import { browserHello, type LocalCoordinator, openVolunteer, request, startCoordinator, type Volunteer, volunteerId } from './helpers.js';

/** What the private-grid check reads of the volunteer page's DOM. */
interface PageDocument {
  body: { dataset: Record<string, string | undefined> };
  querySelector(selector: string): { textContent: string | null } | null;
}

const ALLOWED = 'https://volunteer.example.org';

const open: Volunteer[] = [];
afterEach(() => {
  for (const v of open.splice(0)) v.ws.terminate();
});

async function volunteer(url: string, query: string, headers: Record<string, string> = {}): Promise<Volunteer> {
  const v = await openVolunteer(url, query, headers);
  open.push(v);
  return v;
}

/** Says Hello and asks for work at once, as an eager client would. */
function helloAndCredit(v: Volunteer): void {
  v.send(browserHello());
  v.send({ credit: { tasks: 8 } });
}

describe('the Origin check', () => {
  let grid: LocalCoordinator;

  beforeAll(async () => {
    grid = await startCoordinator({ allowOrigins: [ALLOWED] });
  });
  afterAll(() => grid?.close());

  const known = (id: string) => grid.coordinator.store.listWorkers().some((w) => w.key === volunteerKey(id));

  it.each([
    ['another site', 'http://evil.example', undefined],
    ['an opaque origin (sandboxed frame, file: page)', 'null', undefined],
    ["this host's name on another port", 'http://127.0.0.1:1', undefined],
    ['a look-alike of an allowed origin', `${ALLOWED}.evil.example`, undefined],
    // DNS rebinding: the site points its own name at the coordinator, so Host and Origin agree.
    ['a rebound DNS name (Host and Origin both evil.example)', 'http://evil.example:8080', 'evil.example:8080'],
  ])('refuses a page from %s with GRID_ERR_ORIGIN and close 1008, and never welcomes it', async (_name, origin, host?: string) => {
    const id = volunteerId();
    const v = await volunteer(grid.url, `?id=${id}`, { origin, ...(host && { host }) });
    helloAndCredit(v);
    expect(await v.closedWithin()).toEqual({ code: 1008, reason: 'GRID_ERR_ORIGIN' });
    expect(v.frames.map((f) => f.kind === 'error' ? f.error.code : f.kind)).toEqual(['GRID_ERR_ORIGIN']);
    expect(known(id)).toBe(false);
  });

  // A control (it passes without the check too): the check must not lock out those it admits.
  it.each([
    ["the coordinator's own page (Origin = http://<Host>)", () => ({ origin: new URL(grid.url).origin })],
    ['a page from an --allow-origin value', () => ({ origin: ALLOWED })],
    ['the page at localhost', () => ({ origin: `http://localhost:${new URL(grid.url).port}`, host: `localhost:${new URL(grid.url).port}` })],
    ['a client that sends no Origin (not a browser)', () => ({})],
  ])('welcomes %s', async (_name, headers) => {
    const v = await volunteer(grid.url, `?id=${volunteerId()}`, headers());
    v.send(browserHello());
    expect((await v.next('welcome')).kind).toBe('welcome');
  });
});

describe('the volunteer WebSocket of a --private coordinator', () => {
  let grid: LocalCoordinator;

  beforeAll(async () => {
    grid = await startCoordinator({ private: true });
    // A running batch: what an anonymous client must not get to see.
    const res = await request(grid.url, 'POST', '/v1/batches', {
      token: grid.token('operator'),
      body: { kind: 'echo', inputs: Array.from({ length: 20 }, (_, i) => ({ secret: `input-${i}` })), policy: { replication: 1, quorum: 1 } },
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => grid?.close());

  it.each([
    ['without a token', () => ''],
    ['with a token this coordinator does not know', () => '&token=sg_not-a-real-token'],
  ])('refuses a client %s with GRID_ERR_UNAUTHORIZED: no Welcome, no Assign, though a batch is running', async (_name, extra) => {
    const v = await volunteer(grid.url, `?id=${volunteerId()}${extra()}`);
    helloAndCredit(v);
    expect(await v.closedWithin()).toEqual({ code: 1008, reason: 'GRID_ERR_UNAUTHORIZED' });
    expect(v.frames.map((f) => f.kind === 'error' ? f.error.code : f.kind)).toEqual(['GRID_ERR_UNAUTHORIZED']);
  });

  it('refuses a token parameter given twice (an array, not a token) before the upgrade', async () => {
    await expect(openVolunteer(grid.url, `?id=${volunteerId()}&token=sg_bad&token=${encodeURIComponent(grid.token('volunteer'))}`)).rejects.toThrow('HTTP 400');
  });

  // Controls: a token of any role joins.
  it('welcomes a client with a volunteer join key, which then gets work', async () => {
    const v = await volunteer(grid.url, `?id=${volunteerId()}&token=${encodeURIComponent(grid.token('volunteer'))}`);
    helloAndCredit(v);
    expect((await v.next('welcome')).kind).toBe('welcome');
    const assign = await v.next('assign');
    expect(assign.kind === 'assign' && assign.assign.tasks.length).toBeGreaterThan(0);
  });

  it('welcomes a client with a submitter token too (any role joins)', async () => {
    const v = await volunteer(grid.url, `?id=${volunteerId()}&token=${encodeURIComponent(grid.token('submitter'))}`);
    v.send(browserHello());
    expect((await v.next('welcome')).kind).toBe('welcome');
  });
});

// The page's own part: it passes `?token=` from its link on to the WebSocket. Needs Chromium
// (test/browser/chromium.ts); skipped without it, like the browser suite.
describe.skipIf(!hasChromium)('the volunteer page on a --private coordinator', () => {
  let grid: LocalCoordinator;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    grid = await startCoordinator({ private: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await grid?.close();
  });

  it('connects from its join link (/?token=…); without one it is refused and stays offline', async () => {
    // Two contexts: two volunteer ids.
    const [withKey, without] = [await browser!.newContext(), await browser!.newContext()];
    try {
      const joined = await withKey.newPage();
      await joined.goto(`${grid.url}/?token=${encodeURIComponent(grid.token('volunteer'))}`);
      await joined.waitForSelector('body[data-connection="connected"]', { timeout: 20_000 });
      const outsider = await without.newPage();
      await outsider.goto(`${grid.url}/`);
      // Offline with the reason; it retries with backoff (showing "connecting" in between).
      // A function, not source text: the page's CSP forbids eval. It runs in the page, whose DOM
      // types the tests' Node configuration lacks: PageDocument says what it reads.
      await outsider.waitForFunction(() => {
        const { document } = globalThis as unknown as { document: PageDocument };
        return document.body.dataset.connection === 'offline'
          && (document.querySelector('#subline')?.textContent ?? '').includes('GRID_ERR_UNAUTHORIZED');
      }, undefined, { timeout: 20_000 });
      // Only the page with the join key became a worker.
      expect(grid.coordinator.store.listWorkers()).toHaveLength(1);
    } finally {
      await withKey.close();
      await without.close();
    }
  });
});
