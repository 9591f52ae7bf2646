/**
 * Varint length-delimited framing for byte streams. The length prefix is checked against the
 * frame-size cap before a single byte of the body is buffered, so a peer announcing a 4 GiB frame
 * costs us nothing.
 */
import { ProtoErrors } from './errors.js';

/** Longest varint we accept: 5 bytes encode up to 2^35 - 1, well past any sane cap. */
const MAX_VARINT_BYTES = 5;

export function encodeVarint(n: number): Uint8Array {
  const out = new Uint8Array(varintLength(n));
  writeVarint(out, 0, n);
  return out;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes `n` as a varint at `offset`; returns the offset after it. */
function writeVarint(out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[offset++] = n;
  return offset;
}

/** Prefixes one encoded frame with its length. */
export function delimit(body: Uint8Array): Uint8Array {
  return delimitAll([body]);
}

/**
 * Several frames, each prefixed with its length, in one buffer: what a channel writes when it
 * sends several frames in one tick (an Ack and an Assign, a Result and a Credit). One write
 * means one encrypted message and one packet instead of one per frame.
 */
export function delimitAll(bodies: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const b of bodies) total += varintLength(b.byteLength) + b.byteLength;
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of bodies) {
    off = writeVarint(out, off, b.byteLength);
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
}

/**
 * Incremental decoder: `push(chunk)` returns every complete frame body in the chunk and keeps the
 * rest. Throws a GridError (FRAME_TOO_LARGE, FRAME_LENGTH) on a bad prefix; the caller drops the peer.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #expected = -1;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
    }
    for (;;) {
      if (this.#expected < 0) {
        const header = this.#readHeader();
        if (header === null) break;
        this.#expected = header;
      }
      if (this.#buffered < this.#expected) break;
      frames.push(this.#take(this.#expected));
      this.#expected = -1;
    }
    return frames;
  }

  /** Reads and consumes a varint prefix, or returns null when more bytes are needed. */
  #readHeader(): number | null {
    let value = 0;
    let scale = 1;
    let i = 0;
    for (const chunk of this.#chunks) {
      for (let j = 0; j < chunk.byteLength; j++) {
        const byte = chunk[j]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
        i++;
        if ((byte & 0x80) === 0) {
          if (value > this.maxFrameBytes) throw ProtoErrors.FRAME_TOO_LARGE(value, this.maxFrameBytes);
          this.#take(i);
          return value;
        }
        if (i >= MAX_VARINT_BYTES) throw ProtoErrors.FRAME_LENGTH();
      }
    }
    // An incomplete prefix can already prove the frame too large.
    if (value > this.maxFrameBytes) throw ProtoErrors.FRAME_TOO_LARGE(value, this.maxFrameBytes);
    return null;
  }

  #take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0]!;
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const need = n - off;
      if (c.byteLength <= need) {
        out.set(c, off);
        off += c.byteLength;
        this.#chunks.shift();
      } else {
        out.set(c.subarray(0, need), off);
        this.#chunks[0] = c.subarray(need);
        off += need;
      }
    }
    this.#buffered -= n;
    return out;
  }
}
