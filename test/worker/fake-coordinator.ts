/**
 * A scripted coordinator for protocol tests against a real worker process: it joins the test
 * grid's topic on the test DHT, speaks the real frames (proto/channel + codec), and lets a test
 * answer each frame as it likes, including with things a real coordinator never sends.
 */
import DHT from 'hyperdht';
import { type Channel, StreamChannel, toHex } from '../../proto/channel.js';
import { type Frame, type FrameInit } from '../../proto/codec.js';
import { createSwarm, gridTopic, type Swarm } from '../../proto/discovery.js';

export type Script = (frame: Frame, send: (f: FrameInit) => void) => void;

export class FakeCoordinator {
  readonly keyPair: { publicKey: Buffer; secretKey: Buffer } = DHT.keyPair();
  readonly frames: Frame[] = [];
  readonly key = toHex(this.keyPair.publicKey);
  #swarm?: Swarm;
  #channels: Channel[] = [];
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  script: Script = () => {};

  async start(grid: string, bootstrapPort: number): Promise<this> {
    this.#swarm = createSwarm({ bootstrap: [{ host: '127.0.0.1', port: bootstrapPort }], keyPair: this.keyPair });
    this.#swarm.swarm.on('connection', (conn) => {
      conn.on('error', () => {});
      const channel = StreamChannel.fromHyperswarm(conn);
      this.#channels.push(channel);
      channel.onFrame((frame) => {
        this.frames.push(frame);
        if (frame.kind === 'hello') channel.send({ welcome: { coordinatorKey: this.keyPair.publicKey, maxFrameBytes: 8 << 20, heartbeatMs: 15_000, maxCredit: 256, coordinatorVersion: 'fake' } });
        this.script(frame, (f) => channel.send(f));
        this.#waiters = this.#waiters.filter((w) => (w.match(frame) ? (w.resolve(frame), false) : true));
      });
    });
    await this.#swarm.swarm.join(gridTopic(grid), { server: true, client: false }).flushed();
    return this;
  }

  /** The first frame (past or future) of this kind that matches. */
  waitFor<K extends Frame['kind']>(kind: K, pred: (f: Extract<Frame, { kind: K }>) => boolean = () => true, timeoutMs = 20_000): Promise<Extract<Frame, { kind: K }>> {
    const match = (f: Frame) => f.kind === kind && pred(f as Extract<Frame, { kind: K }>);
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen as Extract<Frame, { kind: K }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${kind} frame within ${timeoutMs} ms; got ${this.frames.map((f) => f.kind).join(',')}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (f) => { clearTimeout(timer); resolve(f as Extract<Frame, { kind: K }>); } });
    });
  }

  async close(): Promise<void> {
    for (const c of this.#channels) c.close();
    await this.#swarm?.destroy();
  }
}
