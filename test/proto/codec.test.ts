import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type FrameInit, Runtime } from '../../proto/codec.js';
import { GridError } from '../../proto/errors.js';
import { delimit, encodeVarint, FrameDecoder } from '../../proto/framing.js';

const bytes = (...xs: number[]) => Uint8Array.from(xs);

/** One example of every frame type, with every field set. */
export const everyFrame: Record<string, FrameInit> = {
  hello: { hello: { protocolVersion: 1, runtime: Runtime.RUNTIME_BROWSER, threads: 8, kinds: ['pi@1.0.0', 'primes@1.0.0'], clientVersion: '0.1.0', identity: bytes(1, 2, 3), trustsCoordinator: true } },
  welcome: { welcome: { coordinatorKey: bytes(9, 9), maxFrameBytes: 1024, heartbeatMs: 15000, maxCredit: 64, coordinatorVersion: '0.1.0' } },
  credit: { credit: { tasks: 16 } },
  assign: {
    assign: {
      tasks: [
        { taskId: 2 ** 40 + 7, batchId: 'b1', seq: 12, kind: 'pi', kindVersion: '1.0.0', codeHash: bytes(), input: bytes(123, 125), leaseMs: 60000, timeoutMs: 500, memoryMb: 128 },
        { taskId: 2, batchId: 'b1', seq: 13, kind: 'pi', kindVersion: '1.0.0', codeHash: bytes(7), input: bytes(1), leaseMs: 1, timeoutMs: 0, memoryMb: 0 },
      ],
    },
  },
  result: { result: { results: [{ taskId: 5, output: bytes(1, 2), cpuMs: 12 }, { taskId: 6, errorCode: 'timeout', errorMessage: 'too slow', cpuMs: 500 }] } },
  ack: { ack: { taskIds: [1, 2, 2 ** 50] } },
  cancel: { cancel: { taskIds: [3], reason: 'work unit already decided' } },
  heartbeat: { heartbeat: { timeMs: 1_764_000_000_000 } },
  goodbye: { goodbye: { returnedTaskIds: [4, 5], reason: 'shutting down' } },
  error: { error: { code: 'GRID_ERR_PROTOCOL', message: 'nope' } },
  codeRequest: { codeRequest: { codeHash: bytes(1, 2, 3, 4) } },
  codeBundle: { codeBundle: { codeHash: bytes(1), kind: 'collatz', kindVersion: '1.0.0', code: bytes(60, 61), signature: bytes(5, 5) } },
  decline: { decline: { taskIds: [8], reason: 'untrusted', kind: 'collatz' } },
  blobRequest: { blobRequest: { taskId: 9, hash: bytes(3, 4), offset: 1024 } },
  blobChunk: { blobChunk: { taskId: 9, hash: bytes(3, 4), offset: 1024, totalSize: 4096, data: bytes(1, 2, 3) } },
};

/** Byte fields as arrays, messages as plain objects, so decoded and original compare. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('frame codec', () => {
  for (const [kind, init] of Object.entries(everyFrame)) {
    it(`round-trips a ${kind} frame with every field`, () => {
      const decoded = decodeFrame(encodeFrame(init));
      expect(decoded.kind).toBe(kind);
      const body = (decoded as unknown as Record<string, unknown>)[kind];
      expect(plain(body)).toMatchObject(plain((init as Record<string, unknown>)[kind]) as object);
    });
  }

  it('decodes 64-bit ids as exact numbers, not Long objects', () => {
    const f = decodeFrame(encodeFrame({ ack: { taskIds: [2 ** 53 - 1] } }));
    expect(f.kind === 'ack' && f.ack.taskIds[0]).toBe(2 ** 53 - 1);
    expect(typeof (f.kind === 'ack' && f.ack.taskIds[0])).toBe('number');
  });

  it('rejects an empty frame with GRID_ERR_FRAME_EMPTY', () => {
    expect(() => decodeFrame(new Uint8Array(0))).toThrowError(expect.objectContaining({ code: 'GRID_ERR_FRAME_EMPTY' }));
  });

  it('rejects garbage and truncated frames with GRID_ERR_FRAME_DECODE', () => {
    const full = encodeFrame(everyFrame.assign!);
    for (const bad of [bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), full.subarray(0, full.length - 3), bytes(0x0a, 0x05, 0x01)]) {
      try {
        decodeFrame(bad);
        expect.unreachable('should have thrown');
      } catch (err) {
        expect(err).toBeInstanceOf(GridError);
        expect((err as GridError).code).toMatch(/^GRID_ERR_FRAME_(DECODE|EMPTY)$/);
      }
    }
  });

  it('survives random garbage without an uncaught exception (fuzz)', () => {
    let seed = 1;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 2000; i++) {
      const buf = Uint8Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
      try {
        decodeFrame(buf);
      } catch (err) {
        expect(err).toBeInstanceOf(GridError);
      }
    }
  });
});

describe('length-delimited framing', () => {
  it('reassembles frames split at every byte boundary', () => {
    const frames = Object.values(everyFrame).map(encodeFrame);
    const stream = Buffer.concat(frames.map(delimit));
    for (const step of [1, 2, 3, 7, 64, stream.length]) {
      const dec = new FrameDecoder(1 << 20);
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...dec.push(stream.subarray(i, i + step)));
      expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual(frames.map((b) => Buffer.from(b).toString('hex')));
      expect(dec.bufferedBytes).toBe(0);
    }
  });

  it('refuses an oversized frame from its length prefix alone, before buffering its body', () => {
    const dec = new FrameDecoder(1024);
    // The prefix announces 4 GiB; only the prefix has arrived.
    expect(() => dec.push(encodeVarint(2 ** 32))).toThrowError(expect.objectContaining({ code: 'GRID_ERR_FRAME_TOO_LARGE' }));
    const dec2 = new FrameDecoder(1024);
    expect(() => dec2.push(encodeVarint(1025))).toThrowError(expect.objectContaining({ code: 'GRID_ERR_FRAME_TOO_LARGE' }));
    // Even a partial prefix that already exceeds the cap is refused.
    const dec3 = new FrameDecoder(100);
    expect(() => dec3.push(bytes(0xff, 0xff))).toThrowError(expect.objectContaining({ code: 'GRID_ERR_FRAME_TOO_LARGE' }));
  });

  it('refuses a length prefix longer than 5 bytes', () => {
    const dec = new FrameDecoder(Number.MAX_SAFE_INTEGER);
    expect(() => dec.push(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))).toThrowError(expect.objectContaining({ code: 'GRID_ERR_FRAME_LENGTH' }));
  });

  it('accepts a frame of exactly the maximum size', () => {
    const dec = new FrameDecoder(300);
    const body = new Uint8Array(300).fill(7);
    expect(dec.push(delimit(body))[0]).toEqual(body);
  });
});
