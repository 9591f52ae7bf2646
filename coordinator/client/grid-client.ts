/**
 * The typed HTTP client of a coordinator: what `swarmgrid submit/status/results/cancel/kinds`
 * use, exported as `import { GridClient } from 'swarmgrid/client'` (and from 'swarmgrid').
 * Plain `fetch` and web-platform globals, no dependencies, no Node built-ins: it runs in Node and
 * in browsers. Errors are GridErrors carrying the coordinator's GRID_ERR_* code.
 */
import { GridError } from '../../proto/errors.js';
import { ClientErrors } from '../errors.js';
import { FINAL_BATCH_STATES } from '../states.js';
import type {
  Artifact, BatchPreview, BatchSpec, BatchState, BatchStatus, GridClientOptions, Health, KindInfo, NdjsonHeader, ResultLine, SubmitOptions, Submitted, WorkerInfo,
} from './types.js';

export type * from './types.js';

/** States a batch never leaves: `wait()` returns at the first of them. */
export const FINAL_STATES: ReadonlySet<string> = FINAL_BATCH_STATES;

/** The environment's variables in Node; none in a browser. */
const env: Record<string, string | undefined> = globalThis.process?.env ?? {};

/**
 * A random (v4) UUID, for Idempotency-Keys. A browser offers crypto.randomUUID only to secure
 * contexts (https, localhost), and a coordinator is often plain http on a LAN address;
 * getRandomValues is offered everywhere.
 */
function randomUUID(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** NDJSON uploads go out in pieces of about this many bytes, not one write per line. */
const UPLOAD_CHUNK = 64 * 1024;

/**
 * Failures after which the same request may simply be tried again: the coordinator unreachable
 * (down, restarting, a dropped connection, no answer in undici's 300 s), stopping, still storing
 * an earlier try of this submission, rate limiting, or a proxy's 502/503/504.
 */
function transient(err: unknown): boolean {
  if (!(err instanceof GridError)) return false;
  if (['GRID_ERR_UNREACHABLE', 'GRID_ERR_TIMEOUT', 'GRID_ERR_STOPPING', 'GRID_ERR_SUBMISSION_IN_PROGRESS', 'GRID_ERR_UPLOAD_STALLED', 'GRID_ERR_RATE_LIMITED'].includes(err.code)) return true;
  return err.code === 'GRID_ERR_HTTP' && [502, 503, 504].includes(err.statusCode);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RequestOptions {
  json?: unknown;
  ndjson?: AsyncIterable<string>;
  /** No timeout: uploads and result streams take as long as they take. */
  streaming?: boolean;
  headers?: Record<string, string>;
}

export class GridClient {
  readonly url: string;
  #token: string | undefined;
  #timeoutMs: number;
  #retryMs: number;
  #onRetry: GridClientOptions['onRetry'];

  constructor(options: GridClientOptions = {}) {
    const url = options.url ?? env.SWARMGRID_URL;
    if (!url) throw ClientErrors.NO_URL();
    // "127.0.0.1:8080" parses as a URL of scheme "127.0.0.1:", and fetch then fails obscurely.
    if (!/^https?:\/\/[^/]/i.test(url)) throw ClientErrors.BAD_URL(url, `http://${url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')}`);
    this.url = url.replace(/\/+$/, '');
    this.#token = options.token ?? env.SWARMGRID_TOKEN;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retryMs = options.retryMs ?? 600_000;
    this.#onRetry = options.onRetry;
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or transient failures have gone on for
   * retryMs; waits 0.5 s, doubling up to 5 s (or the coordinator's Retry-After) between tries.
   */
  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let pause = 500, n = 1; ; pause = Math.min(pause * 2, 5000), n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!transient(err) || Date.now() - started > this.#retryMs) throw err;
        this.#onRetry?.(err as Error, n);
        const after = (err as GridError & { retryAfterS?: number }).retryAfterS;
        await sleep(after ? Math.min(after * 1000, 60_000) : pause);
      }
    }
  }

  async #request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body: RequestInit['body'];
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.ndjson) {
      headers['content-type'] = 'application/x-ndjson';
      body = uploadStream(opts.ndjson);
    }
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method, headers, body,
        // A streamed body needs half duplex.
        ...(opts.ndjson && { duplex: 'half' }),
        ...(!opts.streaming && { signal: AbortSignal.timeout(this.#timeoutMs) }),
      } as RequestInit);
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw ClientErrors.TIMEOUT(method, path, this.#timeoutMs);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw ClientErrors.UNREACHABLE(this.url, cause?.code ?? cause?.message ?? (err as Error).message);
    }
    if (!res.ok) throw await errorOf(res, method, path);
    return res;
  }

  async #json<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
    return (await (await this.#request(method, path, opts)).json()) as T;
  }

  /**
   * Submits a batch as one JSON document (up to the coordinator's body limit, 16 MiB by default).
   * Resolves once every unit is stored, however long that takes. One Idempotency-Key is sent on
   * every try: while the coordinator is unreachable, restarting or still storing, this retries
   * (up to retryMs) and never makes a second batch.
   */
  submit(spec: BatchSpec, opts: SubmitOptions = {}): Promise<Submitted> {
    const headers = { 'idempotency-key': opts.idempotencyKey ?? randomUUID() };
    return this.#retrying(() => this.#json('POST', '/v1/batches', { json: spec, streaming: true, headers }));
  }

  /**
   * Streams a batch of any size as NDJSON: the header, then one input per line, read from
   * `inputs` only as fast as the coordinator stores them. Resolves once every unit is stored.
   * Retried like submit() when `inputs` is an array (it can be read again); an iterator cannot.
   */
  submitNdjson(header: NdjsonHeader, inputs: AsyncIterable<unknown> | Iterable<unknown>, opts: SubmitOptions = {}): Promise<Submitted> {
    async function* lines(): AsyncGenerator<string> {
      yield JSON.stringify(header) + '\n';
      for await (const input of inputs as AsyncIterable<unknown>) yield JSON.stringify(input) + '\n';
    }
    const headers = { 'idempotency-key': opts.idempotencyKey ?? randomUUID() };
    const once = () => this.#json<Submitted>('POST', '/v1/batches', { ndjson: lines(), streaming: true, headers });
    return Array.isArray(inputs) ? this.#retrying(once) : once();
  }

  /**
   * Streams an NDJSON body that is already text (a file: header line, then inputs). Given a
   * function that opens the body afresh (`() => createReadStream(file)`), it is retried like
   * submit(); given a stream, it is sent once.
   */
  submitNdjsonText(body: AsyncIterable<string | Uint8Array> | (() => AsyncIterable<string | Uint8Array>), opts: SubmitOptions = {}): Promise<Submitted> {
    const headers = { 'idempotency-key': opts.idempotencyKey ?? randomUUID() };
    if (typeof body !== 'function') return this.#json('POST', '/v1/batches', { ndjson: text(body), streaming: true, headers });
    return this.#retrying(() => this.#json('POST', '/v1/batches', { ndjson: text(body()), streaming: true, headers }));
  }

  /**
   * A dry run: the coordinator checks the batch as a submission and answers what it would run
   * (params with defaults, policy, work-unit count); nothing is stored. `spec` is a BatchSpec, or a
   * function opening an NDJSON body (header line, then inputs). Fails with the submission's errors.
   */
  preview(spec: BatchSpec | (() => AsyncIterable<string | Uint8Array>)): Promise<BatchPreview> {
    if (typeof spec !== 'function') return this.#json('POST', '/v1/batches?dryRun=true', { json: spec, streaming: true });
    return this.#json('POST', '/v1/batches?dryRun=true', { ndjson: text(spec()), streaming: true });
  }

  status(id: string): Promise<BatchStatus> {
    return this.#json('GET', `/v1/batches/${encodeURIComponent(id)}`);
  }

  /** Batches, newest first; `state` filters by the stored state (a finishing batch is still `running` there). */
  async list(opts: { limit?: number; state?: Exclude<BatchState, 'finishing'> } = {}): Promise<BatchStatus[]> {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.state) q.set('state', opts.state);
    const query = q.size > 0 ? `?${q}` : '';
    return (await this.#json<{ batches: BatchStatus[] }>('GET', `/v1/batches${query}`)).batches;
  }

  /** Cancels a batch; its tasks out at workers are withdrawn. */
  cancel(id: string): Promise<BatchStatus> {
    return this.#json('DELETE', `/v1/batches/${encodeURIComponent(id)}`);
  }

  /**
   * Decided work units in seq order, streamed, up to the first one still undecided. Resume with
   * `after` = the last seq received.
   */
  async *results(id: string, after = -1, limit?: number): AsyncGenerator<ResultLine> {
    const q = `after=${after}${limit !== undefined ? `&limit=${limit}` : ''}`;
    const res = await this.#request('GET', `/v1/batches/${encodeURIComponent(id)}/results?${q}`, { streaming: true });
    const decoder = new TextDecoder();
    let carry = '';
    // A reader rather than `for await` over the body: not every browser makes streams iterable.
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        const text = carry + decoder.decode(chunk, { stream: true });
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          const line = text.slice(start, nl);
          start = nl + 1;
          if (line.trim()) yield JSON.parse(line) as ResultLine;
        }
        carry = text.slice(start);
      }
    } finally {
      // A caller that stops early (break, return, a throw) ends the download and frees the socket.
      void reader.cancel().catch(() => {});
    }
    carry += decoder.decode();
    if (carry.trim()) yield JSON.parse(carry) as ResultLine;
  }

  /** The reduced artifact of a completed batch (GRID_ERR_NO_ARTIFACT before). */
  async artifact(id: string): Promise<Artifact> {
    const res = await this.#request('GET', `/v1/batches/${encodeURIComponent(id)}/artifact`, { streaming: true });
    const disposition = res.headers.get('content-disposition') ?? '';
    const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'artifact.bin';
    return { bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'application/octet-stream', fileName };
  }

  async workers(): Promise<WorkerInfo[]> {
    return (await this.#json<{ workers: WorkerInfo[] }>('GET', '/v1/workers')).workers;
  }

  async kinds(): Promise<KindInfo[]> {
    return (await this.#json<{ kinds: KindInfo[] }>('GET', '/v1/kinds')).kinds;
  }

  health(): Promise<Health> {
    return this.#json('GET', '/healthz');
  }

  /**
   * Polls until the batch is final; `onProgress` sees every status. Rides out a coordinator
   * restart: while it cannot be reached (or answers 502/503/504), polling goes on for up to
   * retryMs, and `onOutage` is told once per outage.
   */
  async wait(id: string, onProgress?: (s: BatchStatus) => void, intervalMs = 500, onOutage?: (err: GridError) => void): Promise<BatchStatus> {
    let since: number | undefined;
    for (;;) {
      let s: BatchStatus;
      try {
        s = await this.status(id);
      } catch (err) {
        if (!transient(err)) throw err;
        if (since === undefined) {
          since = Date.now();
          onOutage?.(err as GridError);
        } else if (Date.now() - since > this.#retryMs) throw err;
        await sleep(Math.max(intervalMs, 1000));
        continue;
      }
      since = undefined;
      onProgress?.(s);
      if (FINAL_STATES.has(s.state)) return s;
      await sleep(intervalMs);
    }
  }
}

/** A body of text or bytes as text, bytes decoded as UTF-8 across chunk boundaries. */
async function* text(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of source) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  yield decoder.decode();
}

/** A pull-driven body: the source is read only when fetch wants more, so uploads never pile up in memory. */
function uploadStream(source: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let piece = '';
      while (piece.length < UPLOAD_CHUNK) {
        const next = await it.next();
        if (next.done) {
          if (piece) controller.enqueue(encoder.encode(piece));
          controller.close();
          return;
        }
        piece += next.value;
      }
      controller.enqueue(encoder.encode(piece));
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

/** The coordinator's `{ code, message }` as a GridError; anything else as GRID_ERR_HTTP. */
async function errorOf(res: Response, method: string, path: string): Promise<GridError> {
  try {
    const err = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof err.code === 'string' && typeof err.message === 'string') {
      const grid = new GridError(err.code, err.message, res.status);
      const after = Number(res.headers.get('retry-after'));
      if (after > 0) Object.assign(grid, { retryAfterS: after });
      return grid;
    }
  } catch {
    // Not our error format (a proxy in between?): fall through to the generic error.
  }
  const generic = ClientErrors.HTTP(method, path, res.status);
  return new GridError(generic.code, generic.message, res.status);
}
