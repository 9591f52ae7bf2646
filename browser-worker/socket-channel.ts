/**
 * The browser's side of the volunteer WebSocket as a Channel (the counterpart of
 * coordinator/websocket-channel.ts): one binary message per Frame, decoded by the shared
 * BaseChannel, so a garbled frame closes this socket with a coded error and nothing else.
 */
import { BaseChannel } from '../proto/channel.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../proto/codec.js';
import { ProtoErrors } from '../proto/errors.js';

/** Why the socket closed, as the coordinator put it (close code and reason). */
export class SocketClosedError extends Error {
  readonly closeCode: number;

  constructor(closeCode: number, reason: string) {
    super(reason ? `${reason} (close code ${closeCode})` : `connection closed (code ${closeCode})`);
    this.name = 'SocketClosedError';
    this.closeCode = closeCode;
  }
}

export class BrowserSocketChannel extends BaseChannel {
  /** The coordinator is identified by the origin that served this page: it is the one we trust. */
  readonly remoteKey: string;
  readonly remoteAddress: string;
  readonly transport = 'websocket' as const;
  #socket: WebSocket;
  #maxFrameBytes: number;

  private constructor(socket: WebSocket, maxFrameBytes: number) {
    super();
    const url = new URL(socket.url);
    this.remoteKey = url.origin;
    this.remoteAddress = url.host;
    this.#socket = socket;
    this.#maxFrameBytes = maxFrameBytes;
    socket.addEventListener('message', (ev: MessageEvent) => this.#onMessage(ev.data));
    socket.addEventListener('close', (ev: CloseEvent) => {
      this.transportClosed(ev.code === 1000 ? undefined : new SocketClosedError(ev.code, ev.reason));
    });
  }

  /** Opens the socket; resolves once it is open, rejects if it closes or times out first. */
  static open(url: string, options: { timeoutMs?: number; maxFrameBytes?: number } = {}): Promise<BrowserSocketChannel> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.binaryType = 'arraybuffer';
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error('timed out connecting'));
      }, options.timeoutMs ?? 10_000);
      const onClose = (ev: CloseEvent) => {
        clearTimeout(timer);
        reject(new SocketClosedError(ev.code, ev.reason));
      };
      socket.addEventListener('close', onClose, { once: true });
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        socket.removeEventListener('close', onClose);
        resolve(new BrowserSocketChannel(socket, options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES));
      }, { once: true });
    });
  }

  #onMessage(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) {
      this.close(ProtoErrors.PROTOCOL('text message on a binary channel'));
      return;
    }
    // The browser has already buffered it, but a frame over the cap is still a broken peer.
    if (data.byteLength > this.#maxFrameBytes) {
      this.close(ProtoErrors.FRAME_TOO_LARGE(data.byteLength, this.#maxFrameBytes));
      return;
    }
    this.receiveFrameBytes(new Uint8Array(data));
  }

  protected writeBytes(bytes: Uint8Array): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(bytes);
  }

  protected destroyTransport(): void {
    // Browsers only let pages close with 1000 or 3000-4999; the Error frame said why.
    this.#socket.close(1000);
  }
}
