/**
 * The typed HTTP client of a coordinator: what `swarmgrid submit/status/results/cancel` use,
 * exported as `import { GridClient } from 'swarmgrid'`.
 */
import { GridError } from '../../proto/errors.js';

export interface GridClientOptions {
  /** Coordinator URL. @defaultValue process.env.SWARMGRID_URL */
  url?: string;
  /** Bearer token for submitting and cancelling. @defaultValue process.env.SWARMGRID_TOKEN */
  token?: string;
  /** Per-request timeout in ms. @defaultValue 30000 */
  timeoutMs?: number;
}

export interface BatchSpec {
  kind: string;
  params?: Record<string, unknown>;
  inputs?: unknown[];
  policy?: Record<string, unknown>;
}

export interface BatchStatus {
  id: string;
  kind: string;
  kindVersion: string;
  state: 'loading' | 'running' | 'finishing' | 'completed' | 'failed' | 'cancelled';
  total: number;
  counts: { validated: number; failed: number; pending: number; inconclusive: number };
  progress: number;
  tasksIssued: number;
  ratePerSecond: number;
  etaSeconds: number | null;
  summary: string | null;
  artifact: { contentType: string; fileName: string } | null;
  createdAt: string;
  finishedAt: string | null;
  [key: string]: unknown;
}

export interface ResultLine {
  seq: number;
  state: 'validated' | 'failed';
  output?: unknown;
  agreed?: number;
  reason?: string;
}

export const FINAL_STATES = new Set(['completed', 'failed', 'cancelled']);

export class GridClient {
  readonly url: string;
  #token: string | undefined;
  #timeoutMs: number;

  constructor(options: GridClientOptions = {}) {
    const url = options.url ?? process.env.SWARMGRID_URL;
    if (!url) throw new GridError('GRID_ERR_INVALID_OPTION', 'no coordinator URL: pass --url or set SWARMGRID_URL', 400);
    this.url = url.replace(/\/+$/, '');
    this.#token = options.token ?? process.env.SWARMGRID_TOKEN;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #request(method: string, path: string, body?: { json?: unknown; ndjson?: AsyncIterable<string> | Iterable<string> }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let payload: RequestInit['body'];
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.ndjson) {
      headers['content-type'] = 'application/x-ndjson';
      const source = body.ndjson;
      payload = new ReadableStream({
        async start(controller) {
          const enc = new TextEncoder();
          for await (const line of source as AsyncIterable<string>) controller.enqueue(enc.encode(line.endsWith('\n') ? line : line + '\n'));
          controller.close();
        },
      });
    }
    const res = await fetch(this.url + path, {
      method, headers, body: payload,
      // Streams need half-duplex; long NDJSON uploads get no overall timeout.
      ...(body?.ndjson ? { duplex: 'half' } : { signal: AbortSignal.timeout(this.#timeoutMs) }),
    } as RequestInit);
    if (!res.ok) {
      let code = 'GRID_ERR_HTTP';
      let message = `${method} ${path} → HTTP ${res.status}`;
      try {
        const err = (await res.json()) as { code?: string; message?: string };
        if (err.code) code = err.code;
        if (err.message) message = err.message;
      } catch {
        // Not our error format: keep the generic message.
      }
      throw new GridError(code, message, res.status);
    }
    return res;
  }

  async submit(spec: BatchSpec): Promise<{ id: string; total: number }> {
    return (await (await this.#request('POST', '/v1/batches', { json: spec })).json()) as { id: string; total: number };
  }

  /** Streams a big batch: a header line, then one input per line. */
  async submitNdjson(header: { kind: string; policy?: Record<string, unknown> }, inputs: AsyncIterable<unknown> | Iterable<unknown>): Promise<{ id: string; total: number }> {
    async function* lines() {
      yield JSON.stringify(header);
      for await (const input of inputs as AsyncIterable<unknown>) yield JSON.stringify(input);
    }
    return (await (await this.#request('POST', '/v1/batches', { ndjson: lines() })).json()) as { id: string; total: number };
  }

  async status(id: string): Promise<BatchStatus> {
    return (await (await this.#request('GET', `/v1/batches/${encodeURIComponent(id)}`)).json()) as BatchStatus;
  }

  async list(): Promise<BatchStatus[]> {
    return ((await (await this.#request('GET', '/v1/batches')).json()) as { batches: BatchStatus[] }).batches;
  }

  async cancel(id: string): Promise<BatchStatus> {
    return (await (await this.#request('DELETE', `/v1/batches/${encodeURIComponent(id)}`)).json()) as BatchStatus;
  }

  /** Decided work units in order, streamed. */
  async *results(id: string, after = -1): AsyncGenerator<ResultLine> {
    const res = await this.#request('GET', `/v1/batches/${encodeURIComponent(id)}/results?after=${after}`);
    const decoder = new TextDecoder();
    let carry = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      carry += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = carry.indexOf('\n')) >= 0) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as ResultLine;
      }
    }
    if (carry.trim()) yield JSON.parse(carry) as ResultLine;
  }

  async artifact(id: string): Promise<{ bytes: Uint8Array; contentType: string; fileName: string }> {
    const res = await this.#request('GET', `/v1/batches/${encodeURIComponent(id)}/artifact`);
    const disposition = res.headers.get('content-disposition') ?? '';
    const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'artifact.bin';
    return { bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'application/octet-stream', fileName };
  }

  async workers(): Promise<unknown[]> {
    return ((await (await this.#request('GET', '/v1/workers')).json()) as { workers: unknown[] }).workers;
  }

  async kinds(): Promise<unknown[]> {
    return ((await (await this.#request('GET', '/v1/kinds')).json()) as { kinds: unknown[] }).kinds;
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
