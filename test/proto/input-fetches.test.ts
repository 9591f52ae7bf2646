/**
 * The volunteers' shared fetch of inputs sent as blobs (proto/input-fetches.ts): pieces put
 * together and hash-checked, asked again after a reconnect, refused when the hash does not
 * match or the coordinator no longer has the input, and given up when the task is cancelled.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type swarmgrid } from '../../proto/codec.js';
import { InputFetches } from '../../proto/input-fetches.js';
import { blobFrames } from '../../proto/payloads.js';

const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

function setup() {
  const requests: swarmgrid.IBlobRequest[] = [];
  const mismatches: number[] = [];
  const fetches = new InputFetches({
    request: (r) => requests.push(r),
    digest: sha,
    unavailable: (taskId) => new Error(`unavailable ${taskId}`),
    mismatch: (taskId) => mismatches.push(taskId),
  });
  // Pieces as they arrive off the wire: encoded and decoded.
  const deliver = (taskId: number, hash: Uint8Array, data: Uint8Array) => {
    for (const f of blobFrames(taskId, hash, data, 300_000)) {
      const frame = decodeFrame(encodeFrame(f));
      if (frame.kind === 'blobChunk') fetches.onChunk(frame.blobChunk);
    }
  };
  return { fetches, requests, mismatches, deliver };
}

describe('InputFetches', () => {
  it('puts the pieces together and resolves with the input when its SHA-256 matches', async () => {
    const { fetches, requests, deliver } = setup();
    const data = new Uint8Array(randomBytes(1_000_000));
    const got = fetches.fetch(7, sha(data), data.byteLength, new AbortController().signal, true);
    expect(requests.map((r) => Number(r.taskId))).toEqual([7]);
    deliver(7, sha(data), data);
    expect(Buffer.compare(await got, data)).toBe(0);
  });

  it('asks again from the start after a reconnect, and only then when it was not connected', async () => {
    const { fetches, requests, deliver } = setup();
    const data = new Uint8Array(randomBytes(500_000));
    const got = fetches.fetch(3, sha(data), data.byteLength, new AbortController().signal, false);
    expect(requests).toEqual([]);
    fetches.resendAll();
    expect(requests.map((r) => Number(r.offset))).toEqual([0]);
    deliver(3, sha(data), data);
    expect((await got).byteLength).toBe(500_000);
  });

  it('reports a mismatching input, rejects an unavailable one, and gives up on a cancelled task', async () => {
    const { fetches, mismatches, deliver } = setup();
    const data = new Uint8Array(randomBytes(1000));
    const claimed = sha(new Uint8Array(1000));
    void fetches.fetch(1, claimed, 1000, new AbortController().signal, true);
    deliver(1, claimed, data);
    await new Promise((r) => setTimeout(r, 10));
    expect(mismatches).toEqual([1]);

    const gone = fetches.fetch(2, sha(data), 1000, new AbortController().signal, true);
    fetches.onChunk({ taskId: 2, hash: sha(data), offset: 0, totalSize: 0, data: new Uint8Array(0) } as swarmgrid.BlobChunk);
    await expect(gone).rejects.toThrow('unavailable 2');

    const ctl = new AbortController();
    const cancelled = fetches.fetch(4, sha(data), 1000, ctl.signal, true);
    ctl.abort(new Error('task cancelled'));
    await expect(cancelled).rejects.toThrow('task cancelled');
    deliver(4, sha(data), data); // late pieces of a cancelled fetch are ignored
  });
});
