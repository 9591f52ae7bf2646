// Lightweight simulated volunteers that speak the real protocol (proto/codec.ts frames): Hello,
// Welcome, Credit, Assign, Result, Ack. Two transports, each with its own identity per volunteer:
//   - WebSocket to the coordinator's /v1/volunteer?id=<64 hex> (what a browser tab does), one
//     `ws` client each: cheap enough for hundreds in one process;
//   - Hyperswarm, one swarm and one DHT node each (what `swarmgrid worker` does): realistic but
//     heavy, so used for tens, not hundreds.
// They echo each task's input bytes as its output (right for the echo kind: inputs are canonical JSON).
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { dist } from './lib.mjs';

const { encodeFrame, decodeFrame, PROTOCOL_VERSION, Runtime } = await dist('proto/codec.js');

const ECHO_KINDS = ['echo@1.0.0'];

/** Protocol logic shared by both transports; `send(frameInit)` is the transport's. */
class Volunteer {
  constructor({ runtime, credit = 0, reply = true }) {
    this.runtime = runtime;
    this.initialCredit = credit;
    this.reply = reply;
    this.errors = [];
    this.tasks = 0;
    this.acked = 0;
    this.firstTaskAt = undefined;
    this.welcomed = new Promise((resolve) => { this.onWelcome = resolve; });
    this.gotTask = new Promise((resolve) => { this.onTask = resolve; });
  }

  hello() {
    this.send({ hello: { protocolVersion: PROTOCOL_VERSION, runtime: this.runtime === 'browser' ? Runtime.RUNTIME_BROWSER : Runtime.RUNTIME_NODE, threads: 1, kinds: ECHO_KINDS, clientVersion: 'bench' } });
  }

  frame(bytes) {
    let f;
    try {
      f = decodeFrame(bytes);
    } catch (err) {
      this.errors.push(`undecodable frame: ${err.message}`);
      return;
    }
    this.onFrame(f);
  }

  onFrame(f) {
    switch (f.kind) {
      case 'welcome':
        this.onWelcome();
        if (this.initialCredit > 0) this.send({ credit: { tasks: this.initialCredit } });
        return;
      case 'assign': {
        this.tasks += f.assign.tasks.length;
        if (this.firstTaskAt === undefined) {
          this.firstTaskAt = performance.now();
          this.onTask();
        }
        if (this.reply) {
          this.send({ result: { results: f.assign.tasks.map((t) => ({ taskId: t.taskId, output: t.input, cpuMs: 0 })) } });
        }
        return;
      }
      case 'ack':
        this.acked += f.ack.taskIds.length;
        return;
      case 'error':
        this.errors.push(`${f.error.code}: ${f.error.message}`);
        return;
      default:
        return;
    }
  }
}

export class WsVolunteer extends Volunteer {
  /** Opens the socket and sends Hello; resolves once the socket is open. */
  static async connect(httpUrl, opts = {}) {
    const v = new WsVolunteer(opts);
    v.id = randomBytes(32).toString('hex');
    const url = `${httpUrl.replace(/^http/, 'ws')}/v1/volunteer?id=${v.id}`;
    v.ws = new WebSocket(url, { perMessageDeflate: false });
    v.ws.binaryType = 'nodebuffer';
    v.ws.on('message', (data) => v.frame(data));
    v.ws.on('error', (err) => v.errors.push(`socket: ${err.message}`));
    v.ws.on('close', (code, reason) => { if (code !== 1000 && code !== 1005 && !v.closing) v.errors.push(`closed ${code} ${reason}`); });
    await new Promise((resolve, reject) => {
      v.ws.once('open', resolve);
      v.ws.once('error', reject);
    });
    v.hello();
    return v;
  }

  send(frame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(frame), { binary: true });
  }

  close() {
    this.closing = true;
    this.ws.close(1000);
  }
}

export class SwarmVolunteer extends Volunteer {
  /** Joins the grid topic as a client with its own DHT node and key; Hello once connected. */
  static async connect({ bootstrap, grid }, opts = {}) {
    const { createSwarm, gridTopic } = await dist('proto/discovery.js');
    const { StreamChannel } = await dist('proto/channel.js');
    const v = new SwarmVolunteer(opts);
    v.swarm = createSwarm({ bootstrap });
    v.swarm.swarm.on('connection', (conn) => {
      conn.on('error', () => {});
      if (v.channel) return conn.destroy();
      v.channel = StreamChannel.fromHyperswarm(conn);
      v.channel.onFrame((f) => v.onFrame(f));
      v.channel.onClose((err) => { if (err && !v.closing) v.errors.push(`channel: ${err.message}`); });
      v.hello();
    });
    v.swarm.swarm.join(gridTopic(grid), { client: true, server: false });
    return v;
  }

  send(frame) {
    this.channel?.send(frame);
  }

  async close() {
    this.closing = true;
    this.channel?.close();
    await this.swarm.destroy();
  }
}
