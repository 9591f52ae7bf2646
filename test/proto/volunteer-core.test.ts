/**
 * The volunteer protocol core (proto/volunteer/core.ts), the one both the node worker and the
 * browser page run, against a real coordinator Session, scheduler and SQLite store, over an
 * in-memory channel pair. Its clock is the test's: heartbeat periods are stepped, not waited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, Session } from '../../coordinator/session.js';
import { BaseChannel } from '../../proto/channel.js';
import { decodeFrame, type Frame, Runtime, type swarmgrid } from '../../proto/codec.js';
import type { VolunteerClock } from '../../proto/volunteer/clock.js';
import { DEFAULT_HEARTBEAT_MS, VolunteerCore, type VolunteerHost } from '../../proto/volunteer/core.js';
import { type CoordinatorParts, coordinatorParts, settle } from '../helpers/coordinator-parts.js';

const VOLUNTEER_KEY = 'ef'.repeat(32);

/** One end of an in-memory connection: bytes reach the peer on a later microtask, like a socket's. */
class PipeEnd extends BaseChannel {
  readonly remoteAddress = '127.0.0.1';
  readonly transport = 'hyperswarm' as const;
  peer!: PipeEnd;
  /** Frames this end sends, decoded. */
  readonly sent: Frame[] = [];
  /** Drops what this end sends (the other way still works): a half-open connection. */
  mute = false;
  constructor(readonly remoteKey: string) {
    super();
  }
  protected writeBytes(bytes: Uint8Array): void {
    this.sent.push(decodeFrame(bytes));
    if (this.mute) return;
    queueMicrotask(() => this.peer.receiveFrameBytes(bytes));
  }
  protected destroyTransport(): void {
    queueMicrotask(() => this.peer.transportClosed());
  }
  of<K extends Frame['kind']>(kind: K) {
    return this.sent.filter((f) => f.kind === kind) as Extract<Frame, { kind: K }>[];
  }
}

/** A connection: `volunteer` is the volunteer's end, `coordinator` the coordinator's. */
function pipe(): { volunteer: PipeEnd; coordinator: PipeEnd } {
  const volunteer = new PipeEnd('00'.repeat(32));
  const coordinator = new PipeEnd(VOLUNTEER_KEY);
  volunteer.peer = coordinator;
  coordinator.peer = volunteer;
  return { volunteer, coordinator };
}

/** Intervals fire when the test says; timeouts never (none is due in these tests); turns are real. */
class SteppedClock implements VolunteerClock {
  t = 0;
  intervals = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;
  now(): number { return this.t; }
  setTimeout(): unknown { return 0; }
  clearTimeout(): void {}
  setInterval(fn: () => void, ms: number): unknown {
    this.intervals.set(this.#next, { fn, ms });
    return this.#next++;
  }
  clearInterval(handle: unknown): void { this.intervals.delete(handle as number); }
  nextTurn(fn: () => void): void { setImmediate(fn); }
  /** Advances the clock by one period of every interval registered, firing each. */
  tick(): void {
    for (const { fn, ms } of [...this.intervals.values()]) {
      this.t += ms;
      fn();
    }
  }
}

class TestVolunteer extends VolunteerCore {
  lost: (Error | undefined)[] = [];
  welcomes = 0;
  constructor(host: VolunteerHost & { prefetchN: number }, clock: SteppedClock) {
    super(host, { runtime: Runtime.RUNTIME_NODE, clock, digest: () => new Uint8Array(32) });
  }
  protected prefetch(): number {
    return (this.host as VolunteerHost & { prefetchN: number }).prefetchN;
  }
  protected blobUnavailable(taskId: number): Error {
    return new Error(`input of ${taskId} unavailable`);
  }
  protected override onWelcome(): void { this.welcomes++; }
  protected override onLost(err?: Error): void { this.lost.push(err); }
}

let parts: CoordinatorParts;
beforeEach(() => { parts = coordinatorParts(); });
afterEach(() => parts.close());

/** `threads`: the coordinator buffers about two tasks a thread for a newcomer (work-buffer.ts). */
function setup(prefetchN = 2, threads = 1) {
  const clock = new SteppedClock();
  const host = { kinds: ['echo@1.0.0'], threads, version: 'test', paused: false, prefetchN, pump: () => {} };
  const volunteer = new TestVolunteer(host, clock);
  /** Opens a new connection to a new Session (the coordinator's side of a reconnect). */
  const connect = (options: { maxCredit?: number } = {}) => {
    const p = pipe();
    new Session(p.coordinator, parts.sched, { coordinatorKey: new Uint8Array(32), version: 'test', maxFrameBytes: 1 << 20, ...options });
    volunteer.attach(p.volunteer);
    return p;
  };
  return { clock, host, volunteer, connect };
}

const echoBatch = (n: number) => parts.batches.create({ kind: 'echo', inputs: Array.from({ length: n }, (_, a) => ({ a })), policy: { replication: 1, quorum: 1 } });
const heldIds = (v: VolunteerCore) => [...v.held.keys()].sort((a, b) => a - b);
const resultOf = (id: number, task: swarmgrid.ITask): swarmgrid.ITaskResult => ({ taskId: id, output: task.input!, cpuMs: 1 });

describe('the volunteer protocol core against a real Session', () => {
  it('results finished while disconnected are resent after the next Welcome, and forgotten once acknowledged', async () => {
    const id = await echoBatch(2);
    const { volunteer, connect } = setup(2);
    const first = connect();
    await settle(10);
    expect(volunteer.connected).toBe(true);
    const tasks = [...volunteer.held];
    expect(tasks).toHaveLength(2);
    // The connection drops; the tasks finish meanwhile.
    first.volunteer.close();
    await settle(10);
    for (const [taskId, held] of tasks) volunteer.complete(taskId, resultOf(taskId, held.task));
    await settle(10);
    expect(volunteer.unacked.size).toBe(2);
    expect(first.volunteer.of('result')).toEqual([]);
    // Reconnected: the Welcome brings the resend, the coordinator commits and acknowledges.
    const second = connect();
    await settle(20);
    const resent = second.volunteer.of('result').flatMap((f) => f.result.results.map((r) => Number(r.taskId)));
    expect(resent.sort((a, b) => a - b)).toEqual(tasks.map(([t]) => t).sort((a, b) => a - b));
    expect(second.coordinator.of('ack').flatMap((f) => f.ack.taskIds.map(Number)).sort((a, b) => a - b)).toEqual(resent);
    expect(volunteer.unacked.size).toBe(0);
    const batch = parts.store.getBatch(id)!;
    expect(batch.validated).toBe(2);
  });

  it('keeps held + credit at its prefetch: credit after Welcome, more as results go out, none while paused', async () => {
    await echoBatch(2);
    const { host, volunteer, connect } = setup(3, 4);
    const p = connect();
    await settle(10);
    // Two units for three credits: one credit stays outstanding at the coordinator.
    expect(p.volunteer.of('credit').map((f) => f.credit.tasks)).toEqual([3]);
    expect(volunteer.held.size).toBe(2);
    // One result out: one more credit (3 - 1 held - 1 outstanding); no work left to send.
    const [taskId, held] = [...volunteer.held][0]!;
    volunteer.complete(taskId, resultOf(taskId, held.task));
    await settle(20);
    expect(p.volunteer.of('credit').map((f) => f.credit.tasks)).toEqual([3, 1]);
    // Paused: the queued task goes back with a kind-less Decline, which also zeroes the credit
    // outstanding at the coordinator; no credit is asked for while paused.
    host.paused = true;
    expect(volunteer.returnQueued('paused')).toHaveLength(1);
    volunteer.topUpCredit();
    await settle(20);
    expect(volunteer.held.size).toBe(0);
    expect(p.volunteer.of('decline').map((f) => f.decline.kind)).toEqual(['']);
    expect(p.volunteer.of('credit')).toHaveLength(2);
    // Resumed: the whole prefetch is asked for again (ours restarted from zero as theirs did),
    // so new work fills it.
    host.paused = false;
    volunteer.topUpCredit();
    await settle(20);
    expect(p.volunteer.of('credit').map((f) => f.credit.tasks)).toEqual([3, 1, 3]);
    await echoBatch(6);
    await settle(20);
    expect(volunteer.held.size).toBe(3);
  });

  it('asks for no more than the Welcome\'s maxCredit, however large its prefetch', async () => {
    await echoBatch(8);
    const { volunteer, connect } = setup(20, 4);
    const p = connect({ maxCredit: 5 });
    await settle(10);
    expect(p.volunteer.of('credit').map((f) => f.credit.tasks)).toEqual([5]);
    expect(volunteer.held.size).toBe(5);
  });

  it('sends a heartbeat each period of the Welcome, and drops a coordinator that stops answering', async () => {
    const { clock, volunteer, connect } = setup(1);
    const p = connect();
    await settle(10);
    // The period is the Session's, and the core's default is the same figure.
    expect([...clock.intervals.values()].map((i) => i.ms)).toEqual([HEARTBEAT_MS]);
    expect(DEFAULT_HEARTBEAT_MS).toBe(HEARTBEAT_MS);
    // Answered heartbeats keep the link.
    for (let i = 0; i < 3; i++) {
      clock.tick();
      await settle(5);
    }
    expect(p.volunteer.of('heartbeat')).toHaveLength(3);
    expect(p.coordinator.of('heartbeat')).toHaveLength(3);
    expect(volunteer.connected).toBe(true);
    // Half-open: the coordinator's frames no longer arrive. One period sends, the next drops.
    p.coordinator.mute = true;
    clock.tick();
    await settle(5);
    expect(volunteer.connected).toBe(true);
    clock.tick();
    await settle(5);
    expect(volunteer.connected).toBe(false);
    expect(volunteer.lost.map((e) => e?.message)).toEqual(['coordinator stopped answering heartbeats']);
    expect(clock.intervals.size).toBe(0);
  });

  it('hands everything held back with a Goodbye, which the coordinator re-issues', async () => {
    await echoBatch(2);
    const { volunteer, connect } = setup(2);
    const p = connect();
    await settle(10);
    const held = heldIds(volunteer);
    expect(held).toHaveLength(2);
    expect(volunteer.goodbye('leaving').sort((a, b) => a - b)).toEqual(held);
    await settle(10);
    expect(p.volunteer.of('goodbye').map((f) => f.goodbye.returnedTaskIds.map(Number).sort((a, b) => a - b))).toEqual([held]);
    expect(parts.sched.leases.size).toBe(0);
  });
});
