/**
 * A browser volunteer's WebSocket as a Channel: one binary WebSocket message per Frame. The
 * session logic (coordinator/session.ts) cannot tell it from a Hyperswarm stream.
 *
 * The frame-size cap is enforced by `ws` itself (its `maxPayload` option, set to the cap by the
 * route): it reads the length from the WebSocket frame header and refuses the message before
 * buffering its body, closing with 1009 (message too big). Everything else that is wrong (text
 * messages, undecodable bytes, protocol violations) gets an Error frame with its GRID_ERR_* code
 * and a close with 1008 (policy violation) whose reason is the same code.
 */
import { createHash } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import { BaseChannel } from '../proto/channel.js';
import { GridError, ProtoErrors } from '../proto/errors.js';

/** WebSocket close codes we use (RFC 6455 §7.4.1). */
export const WS_CLOSE = Object.freeze({ NORMAL: 1000, UNSUPPORTED_DATA: 1003, POLICY: 1008, TOO_BIG: 1009 });

export interface WebSocketChannelOptions {
  /** The browser volunteer's identity key, hex (validated by the route). */
  remoteKey: string;
  /** The socket's remote address, IPv4-mapped IPv6 folded to IPv4 (see `normalizeAddress`). */
  remoteAddress: string;
  /** For the error message only: `ws` enforces the cap through `maxPayload`. */
  maxFrameBytes: number;
}

export class WebSocketChannel extends BaseChannel {
  readonly remoteKey: string;
  readonly remoteAddress: string;
  readonly transport = 'websocket' as const;
  #socket: WebSocket;
  #closeCode: number = WS_CLOSE.NORMAL;
  #closeReason = '';

  constructor(socket: WebSocket, options: WebSocketChannelOptions) {
    super();
    this.#socket = socket;
    this.remoteKey = options.remoteKey;
    this.remoteAddress = options.remoteAddress;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('close', () => this.transportClosed());
    socket.on('error', (err: Error & { code?: string }) => {
      // `ws` has already closed with 1009 when the cap was hit; name it in our vocabulary for the log.
      this.transportClosed(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? ProtoErrors.FRAME_TOO_LARGE('more than ' + options.maxFrameBytes, options.maxFrameBytes)
        : err);
    });
  }

  override close(err?: Error): void {
    if (this.closed) return;
    if (err) {
      // The Error frame (sent by BaseChannel) carries the details; the close reason repeats the
      // code so that even a client that never decodes frames sees why it was dropped.
      if (this.#closeCode === WS_CLOSE.NORMAL) this.#closeCode = WS_CLOSE.POLICY;
      this.#closeReason = err instanceof GridError ? err.code : 'GRID_ERR_INTERNAL';
    }
    super.close(err);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.#closeCode = WS_CLOSE.UNSUPPORTED_DATA;
      this.close(ProtoErrors.PROTOCOL('text messages are not accepted; frames are binary'));
      return;
    }
    // RawData is one Buffer for 'nodebuffer'; fragments arrive as an array only with 'fragments'.
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    this.receiveFrameBytes(bytes);
  }

  protected writeBytes(bytes: Uint8Array): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(bytes, { binary: true });
  }

  protected destroyTransport(): void {
    // close() sends queued data (a final Error frame) before the close frame. `ws` terminates the
    // TCP connection itself if the peer does not answer the close within its closeTimeout (30 s).
    if (this.#socket.readyState === this.#socket.OPEN || this.#socket.readyState === this.#socket.CONNECTING) {
      this.#socket.close(this.#closeCode, this.#closeReason);
    }
  }
}

/**
 * `::ffff:127.0.0.1` → `127.0.0.1`, so a browser and a node worker on the same host are seen in
 * the same network (networks.ts; Hyperswarm reports plain IPv4).
 */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The worker identity of a browser volunteer whose page chose `id` (64 hex). Browser ids are
 * self-chosen, so they are hashed into their own namespace: no page can pose as a node worker,
 * whose identity is its Noise key (and is listed by GET /v1/workers).
 */
export function volunteerKey(id: string): string {
  return createHash('sha256').update(`swarmgrid/browser:${id}`).digest('hex');
}
