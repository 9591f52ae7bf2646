/**
 * Helpers of the security suites: a real coordinator in this process (its own private DHT on
 * loopback, its own temp dir, HTTP on a free port), tokens of each role made in its store, raw
 * HTTP requests, and a raw volunteer WebSocket client that records every frame it receives.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Coordinator, type CoordinatorOptions } from '../../coordinator/coordinator.js';
import { createToken, type TokenRole } from '../../coordinator/http/auth.js';
import { type BootstrapServer, startBootstrap } from '../../proto/discovery.js';
import { request as apiRequest } from '../api/helpers.js';
import { ALL_KINDS } from './raw-volunteer.js';
import { decodeFrame, encodeFrame, type Frame, type FrameInit, PROTOCOL_VERSION, Runtime } from '../../proto/codec.js';

export interface LocalCoordinator {
  coordinator: Coordinator;
  url: string;
  dir: string;
  /** Makes a token of that role in the coordinator's store. */
  token(role: TokenRole, name?: string): string;
  /** Stops the coordinator and its DHT and removes its temp dir. Idempotent. */
  close(): Promise<void>;
}

export async function startCoordinator(opts: Partial<CoordinatorOptions> = {}): Promise<LocalCoordinator> {
  const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-security-'));
  let dht: BootstrapServer | undefined;
  let coordinator: Coordinator | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await coordinator?.close();
      await dht?.destroy();
      rmSync(dir, { recursive: true, force: true });
    })();
    return closing;
  };
  try {
    dht = await startBootstrap({ port: 0, host: '127.0.0.1' });
    coordinator = await Coordinator.start({
      dataDir: dir,
      grid: `security-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      bootstrap: [{ host: '127.0.0.1', port: dht.port }],
      httpPort: 0,
      httpHost: '127.0.0.1',
      ...opts,
    });
  } catch (err) {
    await close();
    throw err;
  }
  const c = coordinator;
  return { coordinator: c, url: c.httpUrl!, dir, token: (role, name = role) => createToken(c.store, name, role), close };
}

/** A token's id as the API and `swarmgrid token list` show it. */
export const tokenId = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 12);

export interface ApiResponse {
  status: number;
  json: any;
}

/** A raw request with a JSON body (test/api/helpers.ts does the work). */
export async function request(url: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiResponse> {
  const res = await apiRequest({ url }, method, path, {
    ...(opts.token && { token: opts.token }),
    ...(opts.body !== undefined && { contentType: 'application/json', body: JSON.stringify(opts.body) }),
  });
  return { status: res.status, json: res.json };
}

export interface Volunteer {
  ws: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
  /** The close, or a rejection naming the frames received when the socket is still open after `ms`. */
  closedWithin(ms?: number): Promise<{ code: number; reason: string }>;
  /** Resolves with the first frame of that kind, or rejects once the socket closed without one. */
  next(kind: Frame['kind'], timeoutMs?: number): Promise<Frame>;
  send(frame: FrameInit): void;
}

/** Opens the volunteer WebSocket as a raw client (optionally with an Origin header, as browsers send). */
export async function openVolunteer(url: string, query: string, headers: Record<string, string> = {}, localAddress?: string): Promise<Volunteer> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/volunteer${query}`, { headers, ...(localAddress && { localAddress }) });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer) => {
    frames.push(decodeFrame(new Uint8Array(data)));
    for (const w of waiters) w();
  });
  ws.on('error', () => {}); // surfaced as the close
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => {
    resolve({ code, reason: reason.toString() });
    for (const w of waiters) w();
  }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const next = (kind: Frame['kind'], timeoutMs = 10_000) => new Promise<Frame>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${kind} frame within ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      const found = frames.find((f) => f.kind === kind);
      if (found) done(undefined, found);
      else if (ws.readyState === WebSocket.CLOSED) done(new Error(`closed without a ${kind} frame (got: ${frames.map((f) => f.kind).join(', ') || 'nothing'})`));
    };
    function done(err?: Error, frame?: Frame) {
      clearTimeout(timer);
      waiters.delete(check);
      if (err) reject(err);
      else resolve(frame!);
    }
    waiters.add(check);
    check();
  });
  const send = (frame: FrameInit) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(frame));
  };
  const closedWithin = (ms = 5000) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`still open after ${ms} ms; received: ${frames.map((f) => f.kind).join(', ') || 'nothing'}`)), ms);
    });
    return Promise.race([closed, late]).finally(() => clearTimeout(timer));
  };
  return { ws, frames, closed, closedWithin, next, send };
}

/** A browser's Hello, for the built-in kinds the tests use. */
export const browserHello = (threads = 2): FrameInit => ({
  hello: { protocolVersion: PROTOCOL_VERSION, runtime: Runtime.RUNTIME_BROWSER, threads, kinds: ALL_KINDS.filter((k) => /^(echo|pi)@/.test(k)), clientVersion: 'security-test', trustsCoordinator: false },
});

/** A random volunteer id (64 hex), as the page makes one. */
export const volunteerId = () => Array.from({ length: 64 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
