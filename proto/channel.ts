/**
 * A Channel carries Frames between a worker and a coordinator. The session logic on both sides
 * is written against this interface only; a Hyperswarm connection (StreamChannel) and a browser
 * WebSocket (coordinator/websocket-channel.ts) are two adapters of it.
 */
import { decodeFrame, DEFAULT_MAX_FRAME_BYTES, encodeFrame, type Frame, type FrameInit } from './codec.js';
import { GridError, ProtoErrors } from './errors.js';
import { delimitAll, FrameDecoder } from './framing.js';

/**
 * Most bytes in one write to a stream: several frames coalesced stay under this; a lone frame may
 * reach the frame cap (8 MiB by default), still under the secret stream's 16 MiB message limit.
 */
const MAX_WRITE_BYTES = 4 * 1024 * 1024;

export type FrameListener = (frame: Frame) => void;
export type CloseListener = (err?: Error) => void;

export interface Channel {
  /** Hex identity of the peer: its Noise public key, or a browser volunteer's identity key. */
  readonly remoteKey: string;
  /** The peer's network address (host): its network decides whose results are independent (coordinator/networks.ts). */
  readonly remoteAddress: string;
  /**
   * What carries the frames. A coordinator takes a volunteer's runtime from this, never from its
   * Hello: browsers cannot speak Hyperswarm, and anything on the WebSocket is treated as a browser.
   */
  readonly transport: 'hyperswarm' | 'websocket';
  readonly closed: boolean;
  /** Sends one frame; returns false (and sends nothing) when the channel is closed. */
  send(frame: FrameInit): boolean;
  onFrame(listener: FrameListener): void;
  onClose(listener: CloseListener): void;
  /** Closes the channel; with an error, tells the peer (Error frame) first. Idempotent. */
  close(err?: Error): void;
}

/**
 * Shared half of every channel: frame decoding with coded errors, listeners, idempotent close.
 * A malformed frame closes this channel only: it never throws into the caller's event loop.
 */
export abstract class BaseChannel implements Channel {
  abstract readonly remoteKey: string;
  abstract readonly remoteAddress: string;
  abstract readonly transport: 'hyperswarm' | 'websocket';
  #frameListeners: FrameListener[] = [];
  #closeListeners: CloseListener[] = [];
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  onFrame(listener: FrameListener): void {
    this.#frameListeners.push(listener);
  }

  onClose(listener: CloseListener): void {
    if (this.#closed) queueMicrotask(() => listener());
    else this.#closeListeners.push(listener);
  }

  send(frame: FrameInit): boolean {
    if (this.#closed) return false;
    this.writeBytes(encodeFrame(frame));
    return true;
  }

  close(err?: Error): void {
    if (this.#closed) return;
    if (err instanceof GridError) {
      try {
        this.writeBytes(encodeFrame({ error: { code: err.code, message: err.message } }));
      } catch {
        // The peer is going away anyway.
      }
    }
    this.#closed = true;
    this.destroyTransport();
    const listeners = this.#closeListeners;
    this.#closeListeners = [];
    this.#frameListeners = [];
    for (const listener of listeners) listener(err);
  }

  /** Called by adapters with the bytes of one whole frame. */
  protected receiveFrameBytes(bytes: Uint8Array): void {
    if (this.#closed) return;
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      this.close(err instanceof GridError ? err : ProtoErrors.FRAME_DECODE(String(err)));
      return;
    }
    for (const listener of this.#frameListeners) {
      try {
        listener(frame);
      } catch (err) {
        // A listener that throws is a bug or a protocol violation by the peer: drop the peer.
        this.close(err instanceof GridError ? err : ProtoErrors.PROTOCOL((err as Error).message));
        return;
      }
    }
  }

  /** Called by adapters when the transport ends underneath us. */
  protected transportClosed(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    const listeners = this.#closeListeners;
    this.#closeListeners = [];
    this.#frameListeners = [];
    for (const listener of listeners) listener(err);
  }

  protected abstract writeBytes(bytes: Uint8Array): void;
  protected abstract destroyTransport(): void;
}

/** The duplex-stream shape we need from a Hyperswarm (Noise secret stream) connection. */
export interface DuplexLike {
  write(chunk: Uint8Array): boolean;
  destroy(err?: Error): void;
  end?(): void;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface StreamChannelOptions {
  remoteKey: string;
  remoteAddress: string;
  maxFrameBytes?: number;
}

/** Frames over a byte stream, varint-length-delimited. */
export class StreamChannel extends BaseChannel {
  readonly remoteKey: string;
  readonly remoteAddress: string;
  readonly transport = 'hyperswarm' as const;
  #stream: DuplexLike;
  #decoder: FrameDecoder;
  /** Frames sent in this tick, written together at its end (see `writeBytes`). */
  #outbox: Uint8Array[] = [];

  constructor(stream: DuplexLike, options: StreamChannelOptions) {
    super();
    this.#stream = stream;
    this.remoteKey = options.remoteKey;
    this.remoteAddress = options.remoteAddress;
    this.#decoder = new FrameDecoder(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    stream.on('data', (chunk) => this.#onData(chunk));
    stream.on('error', (err) => this.transportClosed(err));
    stream.on('close', () => this.transportClosed());
  }

  /** Wraps a Hyperswarm connection: the remote key is its Noise public key. */
  static fromHyperswarm(conn: HyperswarmConnection, maxFrameBytes?: number): StreamChannel {
    return new StreamChannel(conn, {
      remoteKey: toHex(conn.remotePublicKey),
      remoteAddress: conn.rawStream?.remoteHost ?? 'unknown',
      ...(maxFrameBytes !== undefined && { maxFrameBytes }),
    });
  }

  #onData(chunk: Uint8Array): void {
    let bodies: Uint8Array[];
    try {
      bodies = this.#decoder.push(chunk);
    } catch (err) {
      this.close(err as Error);
      return;
    }
    for (const body of bodies) {
      if (this.closed) return;
      this.receiveFrameBytes(body);
    }
  }

  protected writeBytes(bytes: Uint8Array): void {
    // Frames sent in one tick leave in one write: one encrypted message, one packet. Measured on
    // 10 ms tasks, a Result and its Credit (and an Ack and the next Assign) sent apart cost a
    // second packet each way and often a second SQLite commit at the coordinator.
    this.#outbox.push(bytes);
    if (this.#outbox.length > 1) return;
    queueMicrotask(() => {
      // Closed meanwhile: by close(), which already flushed, or by the transport going away.
      if (this.closed) this.#outbox = [];
      else this.#flushOutbox();
    });
  }

  #flushOutbox(): void {
    if (this.#outbox.length === 0) return;
    const frames = this.#outbox;
    this.#outbox = [];
    // The Noise stream refuses a write above 16 MiB - 1 ("too large for an atomic write"), and
    // one tick may send many big frames (packed Assigns, blob pieces): cut the writes there.
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      const size = frames[i]!.byteLength + 5;
      if (i > start && bytes + size > MAX_WRITE_BYTES) {
        this.#stream.write(delimitAll(frames.slice(start, i)));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    this.#stream.write(delimitAll(start === 0 ? frames : frames.slice(start)));
  }

  protected destroyTransport(): void {
    this.#flushOutbox(); // a final Error frame goes out before the stream ends
    // end() flushes a final Error frame before the stream goes; destroy() after a grace period
    // makes sure a peer that never answers the FIN does not keep the socket open.
    if (this.#stream.end) {
      this.#stream.end();
      const timer = setTimeout(() => this.#stream.destroy(), 2000);
      // proto/ is type-checked for browsers too, whose timers are numbers without unref().
      (timer as unknown as { unref?: () => void }).unref?.();
    } else {
      this.#stream.destroy();
    }
  }
}

export interface HyperswarmConnection extends DuplexLike {
  remotePublicKey: Uint8Array;
  rawStream?: { remoteHost?: string };
}

/** Isomorphic hex encoding (proto/ also runs in browsers, where there is no Buffer). */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export { ProtoErrors };
