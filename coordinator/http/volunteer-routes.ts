/**
 * The browser volunteer: the page at `/` (built from browser-worker/ into dist/public) and its
 * WebSocket at `/v1/volunteer`, which carries the same protobuf frames as a Hyperswarm peer and is
 * served by the same session logic (`Coordinator.accept`); only the Channel differs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { encodeFrame } from '../../proto/codec.js';
import type { GridError } from '../../proto/errors.js';
import { CoordinatorErrors } from '../errors.js';
import { normalizeAddress, volunteerKey, WebSocketChannel, WS_CLOSE } from '../websocket-channel.js';
import { verifyToken } from './auth.js';
import type { HttpContext } from './context.js';
import { normalizeOrigin, originAllowed } from './origin.js';

const VOLUNTEER_ID = /^[0-9a-f]{64}$/;
/** A tab's own nonce, so that the Goodbye beacon of one tab leaves the others of its volunteer alone. */
const TAB_ID = /^[0-9a-f]{32}$/;
/**
 * How long a closed tab's session still answers its Goodbye beacon: a closing page's socket and
 * its beacon race (the browser ends the agent's worker, closing the socket, while the beacon is
 * still on its way), and the tasks the tab held are lost either way.
 */
const TAB_GRACE_MS = 60_000;
/** Tabs remembered at most (oldest forgotten first). */
const MAX_TABS = 100_000;

/** Where the built page lives: beside dist/coordinator when compiled, dist/public from the sources. */
const PAGE_DIRS = ['../../public/', '../../dist/public/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));

export async function registerVolunteerRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const volunteer = ctx.volunteer;
  if (!volunteer) return;
  const allowOrigins = new Set((volunteer.allowOrigins ?? []).map((o) => {
    try {
      return normalizeOrigin(o);
    } catch (err) {
      throw new TypeError(`allowOrigins: ${(err as Error).message}`);
    }
  }));
  /**
   * The checks the socket and the Goodbye beacon share: the Origin, a --private coordinator's
   * token and the volunteer id (64 hex); the tab nonce (32 hex) is optional for the socket (a
   * malformed one is ignored) and required by the beacon. A parameter given twice arrives as an
   * array: only a single string counts.
   */
  const admit = (req: FastifyRequest): { id: string; tab: string | undefined } | GridError => {
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host, allowOrigins)) return CoordinatorErrors.ORIGIN(String(origin).slice(0, 200));
    const query = req.query as Record<string, unknown>;
    const one = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const token = one(query.token);
    if (ctx.private && !(token && verifyToken(ctx.store, token))) return CoordinatorErrors.UNAUTHORIZED();
    const id = one(query.id) ?? '';
    if (!VOLUNTEER_ID.test(id)) return CoordinatorErrors.VOLUNTEER_ID();
    const tab = one(query.tab);
    return { id, tab: tab && TAB_ID.test(tab) ? tab : undefined };
  };
  /** Open sessions by `${volunteer id}:${tab}`: what a Goodbye beacon may end. */
  const tabs = new Map<string, { leave(returnedTaskIds: readonly number[], reason: string): void }>();
  // maxPayload = the frame cap: `ws` refuses a bigger message from its header, before buffering it.
  await app.register(websocket, { options: { maxPayload: volunteer.maxFrameBytes } });

  app.route({
    method: 'GET',
    url: '/v1/volunteer',
    // A plain GET (no Upgrade: websocket), e.g. someone pasting the URL into a browser: say what
    // the route is, in our shape (@fastify/websocket's default is an empty 404).
    handler: async (_req, reply) => {
      void reply.header('upgrade', 'websocket').header('connection', 'Upgrade');
      throw CoordinatorErrors.UPGRADE_REQUIRED();
    },
    schema: {
      summary: 'Browser volunteer WebSocket: binary protobuf Frames, one per message (see docs/BROWSER.md)',
      querystring: {
        type: 'object',
        properties: {
          id: { type: 'string', description: "the volunteer's identity key, 64 hex" },
          token: { type: 'string', description: 'on a --private coordinator: a token of any role (a volunteer join key)' },
          tab: { type: 'string', description: "the tab's own random nonce, 32 hex, named again by its Goodbye beacon" },
        },
      },
    },
    wsHandler: (socket, req) => {
    // Refusals are checked here rather than by the schema or before the upgrade so that the
    // browser learns why, as an Error frame and the close reason; all of them come before any
    // frame is read, so a refused client sees no batch, input or Welcome.
    const refuse = (err: GridError) => {
      socket.send(encodeFrame({ error: { code: err.code, message: err.message } }));
      socket.close(WS_CLOSE.POLICY, err.code);
    };
    const admitted = admit(req);
    if (admitted instanceof Error) return refuse(admitted);
    const { id, tab } = admitted;
    const session = volunteer.accept(new WebSocketChannel(socket, {
      remoteKey: volunteerKey(id),
      remoteAddress: normalizeAddress(req.socket.remoteAddress),
      maxFrameBytes: volunteer.maxFrameBytes,
    }));
    if (tab) {
      const key = `${id}:${tab}`;
      tabs.delete(key); // re-inserted last: the map stays in age order
      if (tabs.size >= MAX_TABS) tabs.delete(tabs.keys().next().value!);
      tabs.set(key, session);
      socket.once('close', () => {
        setTimeout(() => {
          if (tabs.get(key) === session) tabs.delete(key);
        }, TAB_GRACE_MS).unref();
      });
    }
    },
  });

  // The page's Goodbye when its tab closes. Its protocol agent runs in a Web Worker, which the
  // browser may end before it can send a Goodbye frame; navigator.sendBeacon is delivered even
  // as the page goes away. The same credentials as the socket (id, tab, and the token of a
  // private coordinator) and the same Origin check; it ends only that tab's session, whose held
  // tasks go back for immediate re-issue. Unknown or already closed: 204 all the same.
  app.post('/v1/volunteer/goodbye', {
    schema: {
      summary: "Browser volunteer's Goodbye beacon (navigator.sendBeacon on pagehide): hands the tab's tasks back",
      querystring: {
        type: 'object',
        properties: {
          id: { type: 'string', description: "the volunteer's identity key, 64 hex" },
          tab: { type: 'string', description: "the tab's nonce given to /v1/volunteer" },
          token: { type: 'string', description: 'on a --private coordinator: the token given to /v1/volunteer' },
        },
      },
    },
  }, async (req, reply) => {
    const admitted = admit(req);
    if (admitted instanceof Error) throw admitted;
    const { id, tab } = admitted;
    if (!tab) throw CoordinatorErrors.VOLUNTEER_ID();
    const reason = typeof req.body === 'string' ? req.body.slice(0, 200) : 'tab closed';
    tabs.get(`${id}:${tab}`)?.leave([], reason || 'tab closed');
    return reply.code(204).send();
  });

  const root = PAGE_DIRS.find((dir) => existsSync(`${dir}index.html`));
  if (!root) return; // The browser bundle was not built: the API still works.
  await app.register(async (scope) => {
    // Encapsulated: the strict headers apply to the page's files only, not to the JSON API.
    scope.addHook('onSend', async (req, reply, payload) => {
      void reply.header('content-security-policy', contentSecurityPolicy(req.headers.host));
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('referrer-policy', 'no-referrer');
      void reply.header('cross-origin-opener-policy', 'same-origin');
      return payload;
    });
    // wildcard: false registers one route per file found at start, so unknown paths still reach
    // the API's own 404 handler; decorateReply: false leaves reply.sendFile to others (swagger-ui).
    await scope.register(fastifyStatic, { root, prefix: '/', wildcard: false, decorateReply: false, index: ['index.html'] });
  });
}

/**
 * The page may run, fetch and connect to nothing but this coordinator: no third-party script,
 * no eval, no inline script, workers from this origin only. `'wasm-unsafe-eval'` lets the task
 * workers compile WASM kinds (sandboxed modules, docs/SECURITY.md) and nothing else. `connect-src 'self'` covers ws: in
 * current browsers; the explicit ws:/wss: of this host is for those that predate CSP level 3.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sameHost = host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    // WebAssembly.compile for WASM kinds: compiling a module is all it allows (not eval).
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    `connect-src 'self'${sameHost}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
