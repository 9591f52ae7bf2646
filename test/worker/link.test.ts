/** The worker's per-coordinator protocol state, against an in-memory channel. */
import { describe, expect, it } from 'vitest';
import { BaseChannel } from '../../proto/channel.js';
import { decodeFrame, encodeFrame, type Frame, type FrameInit } from '../../proto/codec.js';
import { CoordinatorLink, type LinkHost } from '../../worker/link.js';

class MemoryChannel extends BaseChannel {
  readonly remoteKey = 'ab'.repeat(32);
  readonly remoteAddress = '127.0.0.1';
  readonly transport = 'hyperswarm' as const;
  readonly sent: Frame[] = [];
  protected writeBytes(bytes: Uint8Array): void { this.sent.push(decodeFrame(bytes)); }
  protected destroyTransport(): void {}
  deliver(frame: FrameInit): void { this.receiveFrameBytes(encodeFrame(frame)); }
  of<K extends Frame['kind']>(kind: K) { return this.sent.filter((f) => f.kind === kind) as Extract<Frame, { kind: K }>[]; }
}

function setup(opts: { trusts?: boolean } = {}) {
  const host: LinkHost & { paused: boolean } = {
    kinds: ['pi@1.0.0'], threads: 1, version: 'test', paused: false,
    trusts: () => opts.trusts ?? false,
    joinToken: () => '',
    prefetchFor: () => (host.paused ? 0 : 2),
    pump: () => {}, linkLost: () => {}, log: () => {},
  };
  const link = new CoordinatorLink('ab'.repeat(32), host);
  const channel = new MemoryChannel();
  link.attach(channel);
  channel.deliver({ welcome: { coordinatorKey: new Uint8Array(32), maxCredit: 256 } });
  return { host, link, channel };
}

const task = (taskId: number, custom = false) => ({ taskId, kind: custom ? 'collatz' : 'pi', kindVersion: '1.0.0', input: new Uint8Array(0), ...(custom && { codeHash: new Uint8Array(32).fill(1) }) });

describe('CoordinatorLink', () => {
  it('asks for its prefetch on Welcome', () => {
    const { channel } = setup();
    expect(channel.of('credit').map((f) => f.credit.tasks)).toEqual([2]);
  });

  it('on pause cancels outstanding credit even with nothing queued, and asks afresh on resume', () => {
    const { host, link, channel } = setup();
    host.paused = true;
    expect(link.returnQueued('host busy')).toEqual([]);
    expect(channel.of('decline')).toMatchObject([{ decline: { taskIds: [], kind: '' } }]);
    host.paused = false;
    link.topUpCredit();
    // The coordinator zeroed our credit: without the reset we would believe 2 were still granted.
    expect(channel.of('credit').map((f) => f.credit.tasks)).toEqual([2, 2]);
  });

  it('hands straight back tasks that arrive after it paused', () => {
    const { host, link, channel } = setup();
    host.paused = true;
    channel.deliver({ assign: { tasks: [task(7)] } });
    expect(link.held.size).toBe(0);
    expect(channel.of('decline')).toMatchObject([{ decline: { taskIds: [7], kind: '' } }]);
  });

  it('declines custom code from an untrusted coordinator with the reason, and asks for other work', () => {
    const { link, channel } = setup();
    channel.deliver({ assign: { tasks: [task(1, true), task(2, true), task(3)] } });
    expect([...link.held.keys()]).toEqual([3]);
    const [d] = channel.of('decline');
    expect(d!.decline.taskIds).toEqual([1, 2]);
    expect(d!.decline.kind).toBe('collatz');
    expect(d!.decline.reason).toMatch(/^GRID_ERR_UNTRUSTED_CODE: custom job kind collatz@1.0.0 .*--trust abab/);
    expect(channel.of('credit').map((f) => f.credit.tasks)).toEqual([2, 1]);
    expect(channel.of('codeRequest')).toEqual([]);
  });

  it('keeps custom tasks from a trusted coordinator', () => {
    const { link, channel } = setup({ trusts: true });
    channel.deliver({ assign: { tasks: [task(1, true)] } });
    expect([...link.held.keys()]).toEqual([1]);
    expect(channel.of('decline')).toEqual([]);
  });
});
