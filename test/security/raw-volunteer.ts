/**
 * An attacker's volunteer: speaks the raw protocol (frames generated from proto/swarmgrid.proto)
 * over a WebSocket from a chosen local address, or over Hyperswarm from a DHT node bound to a
 * chosen loopback address, and says and answers whatever the test tells it to: any runtime in
 * Hello, any thread count, any credit, wrong outputs, errors, or nothing at all (hoarding).
 */
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { builtinKinds } from '../../jobs/registry.js';
import { StreamChannel } from '../../proto/channel.js';
import { decodeFrame, encodeFrame, type Frame, type FrameInit, PROTOCOL_VERSION, Runtime, type swarmgrid } from '../../proto/codec.js';
import { type BootstrapNode, createSwarm, gridTopic, type Swarm } from '../../proto/discovery.js';

/** What to send back for a task: a result, an error, or `undefined` to hold it and never answer. */
export type Answer = (task: swarmgrid.ITask) => { output?: Uint8Array; errorCode?: string; cpuMs?: number } | undefined;

export interface Behaviour {
  answer: Answer;
  /** Hello fields to send (runtime, threads, kinds…); the rest are a plausible node worker's. */
  hello?: Partial<swarmgrid.IHello>;
  /** Credit frames sent after Welcome. @defaultValue [2 × threads] */
  credit?: number[];
  /** Grant one credit back per answered task. @defaultValue true */
  refill?: boolean;
}

/** Every built-in kind as name@version, as a real volunteer's Hello lists them. */
export const ALL_KINDS = [...builtinKinds.values()].map((k) => `${k.name}@${k.version}`);

export class RawVolunteer {
  welcome?: swarmgrid.IWelcome;
  error?: swarmgrid.IError;
  /** Tasks received and not answered, cancelled or handed back. */
  readonly held = new Set<number>();
  received = 0;
  answered = 0;
  closed = false;
  #send: (frame: FrameInit) => void;
  /** Sends frames in one transport write where it can (a corked socket). */
  #sendTogether: (frames: FrameInit[]) => void = (frames) => frames.forEach((f) => this.#send(f));
  #close: () => Promise<void>;
  #behaviour: Behaviour;
  #welcomed: Promise<void>;
  #onWelcome!: () => void;
  #onEnd!: (err: Error) => void;

  private constructor(behaviour: Behaviour, send: (frame: FrameInit) => void, close: () => Promise<void>) {
    this.#behaviour = behaviour;
    this.#send = send;
    this.#close = close;
    this.#welcomed = new Promise((resolve, reject) => {
      this.#onWelcome = resolve;
      this.#onEnd = reject;
    });
    this.#welcomed.catch(() => {});
  }

  /** A WebSocket volunteer at `url` (the coordinator's HTTP URL), from `localAddress`. */
  static ws(url: string, behaviour: Behaviour, opts: { localAddress?: string; id?: string; origin?: string; token?: string } = {}): RawVolunteer {
    const id = opts.id ?? randomBytes(32).toString('hex');
    const query = `id=${id}${opts.token ? `&token=${encodeURIComponent(opts.token)}` : ''}`;
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/volunteer?${query}`, {
      ...(opts.localAddress && { localAddress: opts.localAddress }),
      ...(opts.origin && { headers: { origin: opts.origin } }),
    });
    const v: RawVolunteer = new RawVolunteer(behaviour, (frame) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeFrame(frame));
    }, async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => socket.once('close', r));
      socket.terminate();
      await closed;
    });
    v.#sendTogether = (frames) => {
      const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      raw?.cork();
      for (const f of frames) v.#send(f);
      raw?.uncork();
    };
    socket.on('open', () => v.#hello());
    socket.on('message', (data: Buffer) => v.#frame(decodeFrame(new Uint8Array(data))));
    socket.on('error', () => {});
    socket.on('close', () => v.#ended());
    return v;
  }

  /**
   * A Hyperswarm volunteer with its own key pair and DHT node bound to `host` (a loopback
   * address: the coordinator sees its connections come from there).
   */
  static async swarm(opts: { bootstrap: BootstrapNode[]; grid: string; host: string }, behaviour: Behaviour): Promise<RawVolunteer> {
    const swarm: Swarm = createSwarm({ bootstrap: opts.bootstrap, host: opts.host });
    let channel: StreamChannel | undefined;
    const v: RawVolunteer = new RawVolunteer(behaviour, (frame) => channel?.send(frame), () => swarm.destroy());
    swarm.swarm.on('connection', (conn) => {
      if (channel) return conn.destroy();
      conn.on('error', () => {});
      channel = StreamChannel.fromHyperswarm(conn);
      channel.onFrame((frame) => v.#frame(frame));
      channel.onClose(() => v.#ended());
      v.#hello();
    });
    swarm.swarm.join(gridTopic(opts.grid), { server: false, client: true });
    return v;
  }

  /** Resolves on Welcome; rejects if the coordinator closes the connection first. */
  welcomed(): Promise<void> {
    return this.#welcomed;
  }

  /**
   * Hands every held task back (a Decline without a kind: "paused") and asks for as many again,
   * in one write: the race a hoarder would run to keep tasks cycling through itself.
   */
  handBackAndRetake(): number {
    const ids = [...this.held];
    this.held.clear();
    this.#sendTogether([
      { decline: { kind: '', reason: 'pause', taskIds: ids } },
      { credit: { tasks: Math.max(1, ids.length) } },
    ]);
    return ids.length;
  }

  /** Answers one held task (the oldest) with `answer`, now. */
  answerOne(answer: { output?: Uint8Array; errorCode?: string; cpuMs?: number }): void {
    const id = this.held.values().next();
    if (id.done) return;
    this.held.delete(id.value);
    this.answered++;
    this.#send({ result: { results: [{ taskId: id.value, ...answer }] } });
  }

  close(): Promise<void> {
    this.closed = true;
    return this.#close();
  }

  #hello(): void {
    this.#send({
      hello: {
        protocolVersion: PROTOCOL_VERSION, runtime: Runtime.RUNTIME_NODE, threads: 2, kinds: ALL_KINDS,
        clientVersion: 'raw-test', ...this.#behaviour.hello,
      },
    });
  }

  #ended(): void {
    this.closed = true;
    this.#onEnd(new Error(`closed by the coordinator${this.error ? `: ${this.error.code} ${this.error.message}` : ''}`));
  }

  #frame(frame: Frame): void {
    switch (frame.kind) {
      case 'welcome': {
        this.welcome = frame.welcome;
        const threads = this.#behaviour.hello?.threads ?? 2;
        for (const tasks of this.#behaviour.credit ?? [2 * threads]) this.#send({ credit: { tasks } });
        this.#onWelcome();
        return;
      }
      case 'assign': {
        const results: swarmgrid.ITaskResult[] = [];
        for (const task of frame.assign.tasks) {
          this.received++;
          const answer = this.#behaviour.answer(task);
          if (!answer) {
            this.held.add(Number(task.taskId));
            continue;
          }
          results.push({ taskId: task.taskId, ...answer });
        }
        if (results.length === 0) return;
        this.answered += results.length;
        this.#send({ result: { results } });
        if (this.#behaviour.refill !== false) this.#send({ credit: { tasks: results.length } });
        return;
      }
      case 'cancel':
        for (const id of frame.cancel.taskIds) this.held.delete(Number(id));
        return;
      case 'error':
        this.error = frame.error;
        return;
      default:
        return;
    }
  }
}
