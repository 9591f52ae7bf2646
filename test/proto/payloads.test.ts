/**
 * proto/payloads.ts: frames packed by encoded size never exceed the cap, big payloads become
 * blob pieces that reassemble byte for byte, and a stream channel cuts what one tick sends into
 * writes the Noise stream accepts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StreamChannel } from '../../proto/channel.js';
import { decodeFrame, encodeFrame, type swarmgrid } from '../../proto/codec.js';
import { FrameDecoder } from '../../proto/framing.js';
import { assignFrames, BlobAssembly, BLOB_CHUNK_BYTES, fitsInline, resultFrames } from '../../proto/payloads.js';

const MiB = 1024 * 1024;
const CAP = 8 * MiB;
const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

function task(id: number, inputBytes: number): swarmgrid.ITask {
  return { taskId: id, batchId: 'b'.repeat(16), seq: id, kind: 'echo', kindVersion: '1.0.0', codeHash: new Uint8Array(0), input: new Uint8Array(inputBytes).fill(65), leaseMs: 60_000 };
}

describe('payloads against the frame cap', () => {
  it('packs Assigns by encoded size: every frame under the cap, every task once, in order', () => {
    // 20 inputs of 3,000,000 bytes (the case), and a mix of sizes up to the inline limit.
    const sizes = [...Array(20).fill(3_000_000), ...Array.from({ length: 200 }, (_, i) => (i * 7919) % (CAP / 3))];
    const tasks = sizes.map((s, i) => task(i + 1, s));
    const frames = assignFrames(tasks, CAP);
    const ids: number[] = [];
    for (const f of frames) {
      expect(encodeFrame(f).byteLength).toBeLessThanOrEqual(CAP);
      ids.push(...f.assign!.tasks!.map((t) => Number(t.taskId)));
    }
    expect(ids).toEqual(tasks.map((t) => t.taskId));
    expect(frames.length).toBeGreaterThan(7);
    // Small tasks still share one frame: the common case is unchanged.
    expect(assignFrames(Array.from({ length: 64 }, (_, i) => task(i, 100)), CAP)).toHaveLength(1);
  });

  it('sends results bigger than a frame as blob pieces then a Result naming the hash; the rest packed under the cap', () => {
    const big = new Uint8Array(9_000_000).map((_, i) => i % 251);
    const results: swarmgrid.ITaskResult[] = [
      { taskId: 1, output: big, outputHash: sha(big), cpuMs: 3 },
      ...Array.from({ length: 8 }, (_, i) => ({ taskId: 10 + i, output: new Uint8Array(2 * MiB + 1).fill(i), cpuMs: 1 })),
      { taskId: 99, errorCode: 'timeout', errorMessage: 'slow', cpuMs: 5 },
    ];
    expect(fitsInline(big.byteLength, CAP)).toBe(false);
    const frames = resultFrames(results, CAP);
    let assembly: BlobAssembly | undefined;
    const seen: number[] = [];
    for (const f of frames) {
      expect(encodeFrame(f).byteLength).toBeLessThanOrEqual(CAP);
      const decoded = decodeFrame(encodeFrame(f));
      if (decoded.kind === 'blobChunk') {
        expect(decoded.blobChunk.data.byteLength).toBeLessThanOrEqual(BLOB_CHUNK_BYTES);
        assembly ??= new BlobAssembly(decoded.blobChunk.hash, decoded.blobChunk.totalSize, 16 * MiB);
        assembly.add(decoded.blobChunk);
      } else if (decoded.kind === 'result') {
        for (const r of decoded.result.results) {
          seen.push(Number(r.taskId));
          if (Number(r.taskId) === 1) {
            // The blob went first, whole, and matches its hash.
            expect(assembly?.complete).toBe(true);
            // proto3: an absent bytes field is an empty one.
            expect(Buffer.compare(sha(assembly!.bytes), r.outputHash ?? new Uint8Array())).toBe(0);
            expect((r.output ?? new Uint8Array()).byteLength).toBe(0);
            expect(r.outputSize).toBe(big.byteLength);
          }
        }
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual([1, 10, 11, 12, 13, 14, 15, 16, 17, 99]);
  });

  it('a blob assembly refuses pieces out of order, past the end, or beyond the payload limit', () => {
    const hash = new Uint8Array(32).fill(1);
    const a = new BlobAssembly(hash, 10, 100);
    expect(() => a.add({ hash, offset: 5, totalSize: 10, data: new Uint8Array(5) })).toThrow(/out of order/);
    a.add({ hash, offset: 0, totalSize: 10, data: new Uint8Array(6) });
    expect(() => a.add({ hash, offset: 6, totalSize: 10, data: new Uint8Array(5) })).toThrow(/out of order/);
    expect(() => a.add({ hash: new Uint8Array(32), offset: 6, totalSize: 10, data: new Uint8Array(4) })).toThrow(/another blob/);
    a.add({ hash, offset: 6, totalSize: 10, data: new Uint8Array(4) });
    expect(a.complete).toBe(true);
    expect(() => new BlobAssembly(hash, 101, 100)).toThrow(/exceeds the limit/);
  });

  it('a stream channel cuts frames sent in one tick into writes the Noise stream accepts (< 16 MiB each)', async () => {
    const writes: Uint8Array[] = [];
    const duplex = { write: (c: Uint8Array) => { writes.push(c); return true; }, destroy: () => {}, on: () => duplex };
    const channel = new StreamChannel(duplex, { remoteKey: 'ab', remoteAddress: '127.0.0.1', maxFrameBytes: CAP });
    const frames = assignFrames(Array.from({ length: 20 }, (_, i) => task(i + 1, 3_000_000)), CAP);
    for (const f of frames) channel.send(f);
    await new Promise((r) => setTimeout(r, 10));
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(w.byteLength).toBeLessThan(16 * MiB - 1);
    const dec = new FrameDecoder(CAP);
    const tasks = writes.flatMap((w) => dec.push(w)).flatMap((b) => { const f = decodeFrame(b); return f.kind === 'assign' ? f.assign.tasks : []; });
    expect(tasks.map((t) => Number(t.taskId))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
