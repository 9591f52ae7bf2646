/**
 * The typed HTTP client of a coordinator: what `swarmgrid submit/status/results/cancel/kinds`
 * use, exported as `import { GridClient } from 'swarmgrid'`. Plain `fetch`, no dependencies.
 * Errors are GridErrors carrying the coordinator's GRID_ERR_* code.
 */
import { GridError } from '../../proto/errors.js';
import { ClientErrors } from '../errors.js';
import type {
  Artifact, BatchSpec, BatchStatus, GridClientOptions, Health, KindInfo, NdjsonHeader, ResultLine, Submitted, WorkerInfo,
} from './types.js';

export type * from './types.js';

export const FINAL_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/** NDJSON uploads go out in pieces of about this many bytes, not one write per line. */
const UPLOAD_CHUNK = 64 * 1024;

interface RequestOptions {
  json?: unknown;
  ndjson?: AsyncIterable<string>;
  /** No timeout: uploads and result streams take as long as they take. */
  streaming?: boolean;
}

export class GridClient {
  readonly url: string;
  #token: string | undefined;
  #timeoutMs: number;

  constructor(options: GridClientOptions = {}) {
    const url = options.url ?? process.env.SWARMGRID_URL;
    if (!url) throw ClientErrors.NO_URL();
    // "127.0.0.1:8080" parses as a URL of scheme "127.0.0.1:", and fetch then fails obscurely.
    if (!/^https?:\/\/[^/]/i.test(url)) throw ClientErrors.BAD_URL(url, `http://${url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')}`);
    this.url = url.replace(/\/+$/, '');
    this.#token = options.token ?? process.env.SWARMGRID_TOKEN;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
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

  /** Submits a batch as one JSON document (up to the coordinator's body limit, 16 MiB by default). */
  submit(spec: BatchSpec): Promise<Submitted> {
    return this.#json('POST', '/v1/batches', { json: spec });
  }

  /**
   * Streams a batch of any size as NDJSON: the header, then one input per line, read from
   * `inputs` only as fast as the coordinator stores them. Resolves once every unit is stored.
   */
  submitNdjson(header: NdjsonHeader, inputs: AsyncIterable<unknown> | Iterable<unknown>): Promise<Submitted> {
    async function* lines(): AsyncGenerator<string> {
      yield JSON.stringify(header) + '\n';
      for await (const input of inputs as AsyncIterable<unknown>) yield JSON.stringify(input) + '\n';
    }
    return this.#json('POST', '/v1/batches', { ndjson: lines(), streaming: true });
  }

  /** Streams an NDJSON body that is already text (a file: header line, then inputs). */
  submitNdjsonText(body: AsyncIterable<string | Uint8Array>): Promise<Submitted> {
    async function* text(): AsyncGenerator<string> {
      const decoder = new TextDecoder();
      for await (const chunk of body) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      yield decoder.decode();
    }
    return this.#json('POST', '/v1/batches', { ndjson: text(), streaming: true });
  }

  status(id: string): Promise<BatchStatus> {
    return this.#json('GET', `/v1/batches/${encodeURIComponent(id)}`);
  }

  /** Batches, newest first. */
  async list(opts: { limit?: number; state?: BatchStatus['state'] } = {}): Promise<BatchStatus[]> {
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
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = carry + decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const line = text.slice(start, nl);
        start = nl + 1;
        if (line.trim()) yield JSON.parse(line) as ResultLine;
      }
      carry = text.slice(start);
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

  /** Polls until the batch is final; `onProgress` sees every status. */
  async wait(id: string, onProgress?: (s: BatchStatus) => void, intervalMs = 500): Promise<BatchStatus> {
    for (;;) {
      const s = await this.status(id);
      onProgress?.(s);
      if (FINAL_STATES.has(s.state)) return s;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
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
    if (typeof err.code === 'string' && typeof err.message === 'string') return new GridError(err.code, err.message, res.status);
  } catch {
    // Not our error format (a proxy in between?): fall through to the generic error.
  }
  const generic = ClientErrors.HTTP(method, path, res.status);
  return new GridError(generic.code, generic.message, res.status);
}
