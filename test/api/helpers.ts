/** Helpers of the HTTP API suites: raw requests, and the coordinator's records read straight from SQLite. */
import { readFileSync } from 'node:fs';
import { GridClient } from '../../coordinator/client/grid-client.js';
import type { CoordinatorProcess } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

/** One raw request, for asserting status codes, headers and error bodies exactly. */
export async function request(
  coord: { url: string },
  method: string,
  path: string,
  opts: { token?: string | null; contentType?: string; body?: string | Uint8Array | ReadableStream<Uint8Array> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.contentType) headers['content-type'] = opts.contentType;
  const res = await fetch(coord.url + path, {
    method, headers, body: opts.body,
    ...(opts.body instanceof ReadableStream && { duplex: 'half' }),
    signal: AbortSignal.timeout(30_000),
  } as RequestInit);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const postJson = (coord: CoordinatorProcess, body: unknown, token: string | null = coord.token) =>
  request(coord, 'POST', '/v1/batches', { token, contentType: 'application/json', body: JSON.stringify(body) });

export const postNdjson = (coord: CoordinatorProcess, lines: string[], token: string | null = coord.token) =>
  request(coord, 'POST', '/v1/batches', { token, contentType: 'application/x-ndjson', body: lines.join('\n') + '\n' });

export function clientOf(coord: CoordinatorProcess): GridClient {
  return new GridClient({ url: coord.url, token: coord.token });
}

/** Runs `fn` on a read-only connection to the coordinator's SQLite file. */
export function withDb<T>(coord: { dataDir: string }, fn: (db: ReturnType<typeof openStore>) => T): T {
  const db = openStore(coord.dataDir);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Rows per table, to show that a rejected submission left nothing behind. */
export function rowCounts(coord: { dataDir: string }): { batches: number; workUnits: number; tasks: number } {
  return withDb(coord, (db) => ({
    batches: (db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n,
    workUnits: (db.prepare('SELECT count(*) AS n FROM work_units').get() as { n: number }).n,
    tasks: (db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n,
  }));
}

/** Resident set size and its peak (VmHWM) of a process, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
