/**
 * The coordinator's side of the browser volunteer, without a browser: the page and its headers,
 * and the /v1/volunteer WebSocket's handling of good frames, bad ids and garbage, spoken with a
 * plain `ws` client against a real coordinator process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeFrame, DEFAULT_MAX_FRAME_BYTES, encodeFrame, type Frame, PROTOCOL_VERSION, Runtime } from '../../proto/codec.js';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';

const ID = 'ab'.repeat(32);

interface Conversation {
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
  ws: WebSocket;
}

/** Opens the volunteer socket and records every frame until it closes. */
async function connect(base: string, query: string): Promise<Conversation> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/volunteer${query}`);
  const frames: Frame[] = [];
  ws.on('message', (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {}); // surfaced as the close
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { frames, closed, ws };
}

const hello = () => encodeFrame({ hello: { protocolVersion: PROTOCOL_VERSION, runtime: Runtime.RUNTIME_BROWSER, threads: 2, kinds: ['pi@2.0.0'], clientVersion: 'test', trustsCoordinator: false } });

describe('the /v1/volunteer WebSocket and the volunteer page', () => {
  let grid: TestGrid;
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    grid = await new TestGrid().start();
    coord = await grid.coordinator();
  });
  afterAll(async () => {
    await grid?.close();
  });

  const alive = async () => (await fetch(`${coord.url}/healthz`)).ok;

  it('serves the page at / with a strict Content-Security-Policy, and its scripts from the same origin', async () => {
    const res = await fetch(`${coord.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const host = new URL(coord.url).host;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("worker-src 'self'");
    // Scripts from this origin, and WebAssembly compilation for WASM kinds: nothing else.
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host}`);
    expect(csp.replace("'wasm-unsafe-eval'", '')).not.toMatch(/unsafe-(eval|inline)|\*/);
    const html = await res.text();
    expect(html).toContain('src="app.js"');
    expect(html).not.toMatch(/<script>|https?:\/\//); // no inline script, nothing from elsewhere
    for (const file of ['app.js', 'task-worker.js', 'style.css']) {
      const asset = await fetch(`${coord.url}/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-security-policy'), file).toBe(csp);
    }
    // The JSON API keeps its own 404s.
    const missing = await fetch(`${coord.url}/no-such-page`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('GRID_ERR_NOT_FOUND');
  });

  it('welcomes a browser Hello over the same frames as Hyperswarm, as a browser worker', async () => {
    const c = await connect(coord.url, `?id=${ID}`);
    c.ws.send(hello());
    const joined = await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(ID));
    expect(joined.runtime).toBe('browser');
    expect(joined.address).toBe('127.0.0.1');
    expect(c.frames[0]?.kind).toBe('welcome');
    expect(c.frames[0]?.kind === 'welcome' && c.frames[0].welcome.maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
    c.ws.send(encodeFrame({ goodbye: { returnedTaskIds: [], reason: 'test over' } }));
    expect((await c.closed).code).toBe(1000);
  });

  it.each([
    ['no id', ''],
    ['a short id', '?id=abcd'],
    ['a non-hex id', `?id=${'zz'.repeat(32)}`],
    ['an upper-case id', `?id=${'AB'.repeat(32)}`],
  ])('refuses %s with close code 1008, the reason and an Error frame', async (_name, query) => {
    const c = await connect(coord.url, query);
    const closed = await c.closed;
    expect(closed).toEqual({ code: 1008, reason: 'GRID_ERR_VOLUNTEER_ID' });
    expect(c.frames[0]?.kind === 'error' && c.frames[0].error.code).toBe('GRID_ERR_VOLUNTEER_ID');
  });

  it('answers an undecodable message with GRID_ERR_FRAME_DECODE, closes that socket only, and keeps running', async () => {
    const bystander = await connect(coord.url, `?id=${'cd'.repeat(32)}`);
    bystander.ws.send(hello());
    const c = await connect(coord.url, `?id=${ID}`);
    c.ws.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(await c.closed).toEqual({ code: 1008, reason: 'GRID_ERR_FRAME_DECODE' });
    expect(c.frames.map((f) => f.kind === 'error' && f.error.code)).toEqual(['GRID_ERR_FRAME_DECODE']);
    expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
    expect(await alive()).toBe(true);
    bystander.ws.close();
  });

  it('answers a protocol violation (a frame before Hello) and a text message with coded errors', async () => {
    const early = await connect(coord.url, `?id=${ID}`);
    early.ws.send(encodeFrame({ credit: { tasks: 5 } }));
    expect(await early.closed).toEqual({ code: 1008, reason: 'GRID_ERR_PROTOCOL' });
    const text = await connect(coord.url, `?id=${ID}`);
    text.ws.send('{"hello":{}}');
    expect(await text.closed).toEqual({ code: 1003, reason: 'GRID_ERR_PROTOCOL' });
    expect(text.frames[0]?.kind === 'error' && text.frames[0].error.code).toBe('GRID_ERR_PROTOCOL');
    expect(await alive()).toBe(true);
  });

  it('refuses a message over the frame cap before buffering it (close 1009) and keeps running', async () => {
    const c = await connect(coord.url, `?id=${ID}`);
    c.ws.send(new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1));
    // 1009 (message too big), or 1006 when the server's FIN beats its close frame to a client
    // still busy writing the rest of its 8 MiB.
    expect([1009, 1006]).toContain((await c.closed).code);
    const closed = await coord.waitFor('channel-error', (e) => e.worker === volunteerKey(ID) && e.code === 'GRID_ERR_FRAME_TOO_LARGE');
    expect(closed.code).toBe('GRID_ERR_FRAME_TOO_LARGE');
    expect(await alive()).toBe(true);
  });

  it('ends a tab\'s session on its Goodbye beacon, and only that tab\'s: another tab\'s nonce, a foreign origin or a bad id end nothing', async () => {
    const id = 'cd'.repeat(32);
    const tab = '0f'.repeat(16);
    const c = await connect(coord.url, `?id=${id}&tab=${tab}`);
    c.ws.send(hello());
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(id));
    const beacon = (query: string, headers: Record<string, string> = {}) => fetch(`${coord.url}/v1/volunteer/goodbye?${query}`, {
      method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers }, body: 'tab closed',
    });
    expect((await beacon(`id=${id}&tab=${'1e'.repeat(16)}`)).status).toBe(204); // another tab of this volunteer
    const foreign = await beacon(`id=${id}&tab=${tab}`, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { code: string }).code).toBe('GRID_ERR_ORIGIN');
    const badId = await beacon(`id=xyz&tab=${tab}`);
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { code: string }).code).toBe('GRID_ERR_VOLUNTEER_ID');
    expect(coord.events.some((e) => e.event === 'worker-goodbye' && e.worker === volunteerKey(id))).toBe(false);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);

    expect((await beacon(`id=${id}&tab=${tab}`, { origin: coord.url })).status).toBe(204);
    const goodbye = await coord.waitFor('worker-goodbye', (e) => e.worker === volunteerKey(id));
    expect(goodbye.reason).toBe('tab closed');
    await c.closed;
  });

  it('hands back what a closed tab held when its Goodbye beacon arrives after its socket closed (they race as a page goes away)', async () => {
    const id = 'ef'.repeat(32);
    const tab = '2d'.repeat(16);
    const c = await connect(coord.url, `?id=${id}&tab=${tab}`);
    c.ws.send(hello());
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(id));
    c.ws.send(encodeFrame({ credit: { tasks: 2 } }));
    const res = await fetch(`${coord.url}/v1/batches`, {
      method: 'POST', headers: { authorization: `Bearer ${coord.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'pi', params: { workUnits: 2, samplesPerUnit: 1000 }, policy: { replication: 1, quorum: 1, lease: 600 } }),
    });
    expect(res.status).toBe(201);
    await eventuallyFrames(c, (f) => f.some((x) => x.kind === 'assign'));
    c.ws.terminate(); // the browser ended the agent's worker: the socket goes first
    await coord.waitFor('worker-left', (e) => e.worker === volunteerKey(id));
    const beacon = await fetch(`${coord.url}/v1/volunteer/goodbye?id=${id}&tab=${tab}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'volunteer closed the page' });
    expect(beacon.status).toBe(204);
    const goodbye = await coord.waitFor('worker-goodbye', (e) => e.worker === volunteerKey(id), 5000);
    // Leased for 10 minutes, yet re-issued now.
    expect((goodbye.returned as number) + (goodbye.unreceived as number)).toBe(2);
  });
});

async function eventuallyFrames(c: Conversation, pred: (frames: Frame[]) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pred(c.frames)) {
    if (Date.now() > deadline) throw new Error(`no such frame; got ${c.frames.map((f) => f.kind).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
