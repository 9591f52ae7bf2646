import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamChannel } from '../../proto/channel.js';
import { decodeFrame, encodeFrame, type Frame } from '../../proto/codec.js';
import { delimit, encodeVarint, FrameDecoder } from '../../proto/framing.js';

/** A StreamChannel whose peer is a pair of raw byte streams we control. */
function channelPair(maxFrameBytes = 1024) {
  const toChannel = new PassThrough();
  const fromChannel = new PassThrough();
  const duplex = {
    write: (c: Uint8Array) => fromChannel.write(c),
    end: () => fromChannel.end(),
    destroy: () => { toChannel.destroy(); fromChannel.destroy(); },
    on: (event: string, fn: (...args: never[]) => void) => {
      // The channel's listeners take what a PassThrough emits for the same events (DuplexLike).
      const listener = fn as (...args: unknown[]) => void;
      if (event === 'data' || event === 'close' || event === 'error') toChannel.on(event, listener);
      return duplex;
    },
  };
  const channel = new StreamChannel(duplex, { remoteKey: 'ab', remoteAddress: '127.0.0.1', maxFrameBytes });
  const received: Frame[] = [];
  const sent: Frame[] = [];
  const dec = new FrameDecoder(1 << 20);
  fromChannel.on('data', (c: Buffer) => { for (const b of dec.push(c)) sent.push(decodeFrame(b)); });
  channel.onFrame((f) => received.push(f));
  let closedWith: Error | undefined | null = null;
  channel.onClose((err) => { closedWith = err; });
  return { channel, toChannel, received, sent, closed: () => closedWith };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('StreamChannel', () => {
  it('delivers frames written in arbitrary chunks', async () => {
    const { toChannel, received } = channelPair();
    const wire = Buffer.concat([delimit(encodeFrame({ credit: { tasks: 3 } })), delimit(encodeFrame({ heartbeat: { timeMs: 5 } }))]);
    toChannel.write(wire.subarray(0, 3));
    toChannel.write(wire.subarray(3));
    await tick();
    expect(received.map((f) => f.kind)).toEqual(['credit', 'heartbeat']);
  });

  it('answers an oversized frame with an Error frame and drops the peer, without throwing', async () => {
    const { toChannel, sent, channel, closed } = channelPair(100);
    toChannel.write(encodeVarint(10_000_000));
    await tick();
    expect(channel.closed).toBe(true);
    expect(sent[0]?.kind).toBe('error');
    expect(sent[0]?.kind === 'error' && sent[0].error.code).toBe('GRID_ERR_FRAME_TOO_LARGE');
    expect((closed() as { code?: string } | undefined)?.code).toBe('GRID_ERR_FRAME_TOO_LARGE');
  });

  it('drops the peer on a garbage frame body with GRID_ERR_FRAME_DECODE', async () => {
    const { toChannel, sent, channel } = channelPair();
    toChannel.write(delimit(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])));
    await tick();
    expect(channel.closed).toBe(true);
    expect(sent[0]?.kind === 'error' && sent[0].error.code).toBe('GRID_ERR_FRAME_DECODE');
  });

  it('drops the peer when a frame listener rejects the frame as a protocol violation', async () => {
    const { channel, toChannel, sent } = channelPair();
    channel.onFrame(() => { throw new Error('bad state'); });
    toChannel.write(delimit(encodeFrame({ credit: { tasks: 1 } })));
    await tick();
    expect(channel.closed).toBe(true);
    expect(sent[0]?.kind === 'error' && sent[0].error.code).toBe('GRID_ERR_PROTOCOL');
  });

  it('close() is idempotent and send() after close returns false', () => {
    const { channel } = channelPair();
    channel.close();
    channel.close();
    expect(channel.send({ credit: { tasks: 1 } })).toBe(false);
  });
});
