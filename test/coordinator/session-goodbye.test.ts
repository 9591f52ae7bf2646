/**
 * Goodbye hands back at once not only what the worker says it held, but also an Assign that
 * crossed the Goodbye on the wire (leased here, never received there): a real Session over an
 * in-memory channel, a real scheduler and SQLite store.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { BatchManager } from '../../coordinator/batches.js';
import type { Scheduler } from '../../coordinator/scheduler.js';
import { Session } from '../../coordinator/session.js';
import type { GridStore } from '../../coordinator/store/index.js';
import { BaseChannel } from '../../proto/channel.js';
import { decodeFrame, encodeFrame, type Frame, type FrameInit, PROTOCOL_VERSION, Runtime } from '../../proto/codec.js';
import { type CoordinatorParts, coordinatorParts, settle as settleImmediates } from '../helpers/coordinator-parts.js';
import { readStore } from '../helpers/sqlite.js';

class MemoryChannel extends BaseChannel {
  readonly remoteKey = 'cd'.repeat(32); // every channel here: tabs of one browser share an id
  readonly remoteAddress = '127.0.0.1';
  readonly transport = 'websocket' as const;
  readonly sent: Frame[] = [];
  protected writeBytes(bytes: Uint8Array): void { this.sent.push(decodeFrame(bytes)); }
  protected destroyTransport(): void {}
  deliver(frame: FrameInit): void { this.receiveFrameBytes(encodeFrame(frame)); }
}

const settle = () => settleImmediates(10);
let parts: CoordinatorParts;
let store: GridStore;
let sched: Scheduler;
let batches: BatchManager;

beforeEach(() => {
  parts = coordinatorParts();
  ({ store, sched, batches } = parts);
});
afterEach(() => parts.close());

it('a Goodbye also hands back the tasks assigned to the worker that it never received', async () => {
  const id = await batches.create({ kind: 'echo', inputs: [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }], policy: { replication: 1, quorum: 1 } });
  const channel = new MemoryChannel();
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  new Session(channel, sched, { coordinatorKey: new Uint8Array(32), version: 'test', maxFrameBytes: 1 << 20, log: (event, fields) => events.push({ event, fields }) });
  channel.deliver({ hello: { protocolVersion: PROTOCOL_VERSION, runtime: Runtime.RUNTIME_BROWSER, threads: 1, kinds: ['echo@1.0.0'], clientVersion: 'test' } });
  channel.deliver({ credit: { tasks: 2 } });
  await settle();
  const assigned = channel.sent.flatMap((f) => (f.kind === 'assign' ? f.assign.tasks.map((t) => Number(t.taskId)) : []));
  expect(assigned).toHaveLength(2);
  // The worker received only the first before it left.
  channel.deliver({ goodbye: { returnedTaskIds: [assigned[0]!], reason: 'tab closed' } });
  await settle();
  const states = readStore(parts.dir, (db) => db.prepare(`SELECT t.id, t.state FROM tasks t JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ? ORDER BY t.id`).all(id));
  expect(states).toEqual(assigned.map((taskId) => ({ id: taskId, state: 'abandoned' })));
  expect(sched.leases.size).toBe(0);
  expect(events.find((e) => e.event === 'worker-goodbye')?.fields).toMatchObject({ returned: 1, unreceived: 1 });
});

it("a tab's Goodbye leaves alone the tasks of another tab with the same volunteer id", async () => {
  const id = await batches.create({ kind: 'echo', inputs: Array.from({ length: 8 }, (_, i) => ({ a: i })), policy: { replication: 1, quorum: 1 } });
  const tabs = [new MemoryChannel(), new MemoryChannel()];
  for (const channel of tabs) {
    new Session(channel, sched, { coordinatorKey: new Uint8Array(32), version: 'test', maxFrameBytes: 1 << 20 });
    channel.deliver({ hello: { protocolVersion: PROTOCOL_VERSION, runtime: Runtime.RUNTIME_BROWSER, threads: 1, kinds: ['echo@1.0.0'], clientVersion: 'test' } });
    channel.deliver({ credit: { tasks: 2 } });
  }
  await settle();
  const [a, b] = tabs.map((channel) => channel.sent.flatMap((f) => (f.kind === 'assign' ? f.assign.tasks.map((t) => Number(t.taskId)) : [])));
  expect([a!.length, b!.length]).toEqual([2, 2]);
  tabs[0]!.deliver({ goodbye: { returnedTaskIds: a!, reason: 'tab closed' } });
  await settle();
  const state = (taskId: number) => store.getTask(taskId)!.state;
  expect(a!.map(state)).toEqual(['abandoned', 'abandoned']);
  expect(b!.map(state)).toEqual(['leased', 'leased']);
  expect(store.getBatch(id)!.state).toBe('running');
});
