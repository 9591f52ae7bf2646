/**
 * Code distribution and trust, with real processes: a custom kind (examples/collatz-kind.mjs)
 * registered with `swarmgrid kind add` on a running coordinator is declined by a worker that does
 * not trust the coordinator (reason recorded, never offered again, also after a restart), and run
 * by one that does. A scripted fake coordinator then serves bundles that fail their hash or
 * signature check, and the worker refuses both.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import DHT from 'hyperdht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInput } from '../../jobs/codec.js';
import { codeHash, signCodeHash } from '../../proto/code-signature.js';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { FakeCoordinator } from './fake-coordinator.js';
import { addKind, client, COLLATZ, query, tasks } from './helpers.js';

describe('custom kinds and trust', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
  });
  afterAll(() => grid.close());

  it('declines an untrusted kind with a recorded reason, is not offered it again, and a trusting worker runs it', async () => {
    // Added while the coordinator runs: it must pick the kind up when a batch names it.
    const added = addKind(coord.dataDir, COLLATZ);
    expect(added).toMatchObject({ kind: 'collatz', version: '1.0.0', coordinator: coord.key });
    const volunteerDir = grid.tempDir('swarmgrid-volunteer-');
    let untrusting = await grid.worker({ args: ['--data', volunteerDir] });
    const volunteerKey = (await untrusting.waitFor('worker-started')).key as string;
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey);

    const { id } = await client(coord).submit({ kind: 'collatz', params: { from: 1, to: 2001, unitSize: 500 }, policy: { replication: 1, quorum: 1 } });
    const declined = await untrusting.waitFor('kind-declined');
    expect(declined.reason).toMatch(/^GRID_ERR_UNTRUSTED_CODE: .*--trust [0-9a-f]{64}/);
    const logged = await coord.waitFor('kind-declined', (e) => e.worker === volunteerKey);
    expect(logged).toMatchObject({ kind: 'collatz' });
    const rows = await eventually(() => {
      const r = query<{ worker: string; kind: string; reason: string }>(coord, 'SELECT worker, kind, reason FROM declines');
      return r.length > 0 ? r : undefined;
    });
    expect(rows).toEqual([{ worker: volunteerKey, kind: 'collatz', reason: declined.reason }]);
    const offered = tasks(coord, id).filter((t) => t.worker === volunteerKey);
    expect(offered.length).toBeGreaterThan(0);
    expect(offered.every((t) => t.state === 'abandoned')).toBe(true);
    expect(untrusting.events.some((e) => e.event === 'code-refused')).toBe(false); // never fetched

    // The same volunteer comes back (same identity): the coordinator remembers its answer.
    await untrusting.stop();
    untrusting = await grid.worker({ args: ['--data', volunteerDir] });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey && coord.events.filter((x) => x.event === 'worker-joined' && x.worker === volunteerKey).length >= 2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(tasks(coord, id).filter((t) => t.worker === volunteerKey)).toHaveLength(offered.length);

    // A volunteer who trusts this coordinator runs the kind to the end.
    const trusting = await grid.worker({ args: ['--trust', coord.key] });
    const trustingKey = (await trusting.waitFor('worker-started')).key as string;
    const final = await client(coord).wait(id, undefined, 100);
    expect(final.state).toBe('completed');
    expect(final.summary).toBe('longest Collatz chain in [1, 2001): 1161 takes 181 steps');
    expect(tasks(coord, id).filter((t) => t.state === 'valid').every((t) => t.worker === trustingKey)).toBe(true);
    expect(trusting.events.some((e) => e.event === 'kind-declined')).toBe(false);

    // Restarted with --trust, the first volunteer's "untrusted" decline is forgotten.
    await untrusting.stop();
    await grid.worker({ args: ['--data', volunteerDir, '--trust', coord.key] });
    await eventually(() => query(coord, 'SELECT * FROM declines WHERE worker = ?', volunteerKey).length === 0);
  });
});

describe('code bundles that fail verification', () => {
  const grid = new TestGrid();
  const fake = new FakeCoordinator();
  const code = readFileSync(COLLATZ);
  const hash = codeHash(code);
  const cacheDir = () => join(volunteerDir, 'code-cache');
  let volunteerDir: string;
  /** What the fake answers to a CodeRequest; each test sets it. */
  let bundle: (requested: Uint8Array) => { code: Uint8Array; signature: Uint8Array };
  let nextTaskId = 1;

  beforeAll(async () => {
    await grid.start();
    await fake.start(grid.grid, grid.dht!.port);
    fake.script = (frame, send) => {
      if (frame.kind === 'credit' && nextTaskId <= 3) {
        // One task per test, handed out as credit arrives.
        const taskId = nextTaskId++;
        send({ assign: { tasks: [{ taskId, batchId: 'b', seq: taskId, kind: 'collatz', kindVersion: '1.0.0', codeHash: hash, input: encodeInput({ from: 1, to: 100 }), leaseMs: 60_000 }] } });
      }
      if (frame.kind === 'codeRequest') {
        send({ codeBundle: { codeHash: frame.codeRequest.codeHash, kind: 'collatz', kindVersion: '1.0.0', ...bundle(frame.codeRequest.codeHash) } });
      }
    };
    volunteerDir = grid.tempDir('swarmgrid-volunteer-');
  });
  afterAll(async () => {
    await grid.close();
    await fake.close();
  });

  it('refuses a bundle whose bytes do not match its hash, and a bundle not signed by its coordinator, and runs a good one', async () => {
    // 1. Bytes that do not match the hash the task names (correctly signed hash, tampered code).
    bundle = (h) => ({ code: Buffer.concat([code, Buffer.from('\n// tampered\n')]), signature: signCodeHash(h, fake.keyPair) });
    const worker = await grid.worker({ args: ['--trust', fake.key, '--coordinator', fake.key, '--data', volunteerDir] });
    const first = await fake.waitFor('decline', (f) => f.decline.taskIds.includes(1));
    expect(first.decline.kind).toBe('collatz');
    expect(first.decline.reason).toMatch(/^GRID_ERR_CODE_HASH_MISMATCH: /);
    expect(existsSync(cacheDir()) ? readdirSync(cacheDir()) : []).toEqual([]);

    // 2. The right bytes, signed by some other key.
    const stranger = DHT.keyPair();
    bundle = (h) => ({ code, signature: signCodeHash(h, stranger) });
    const second = await fake.waitFor('decline', (f) => f.decline.taskIds.includes(2));
    expect(second.decline.reason).toMatch(/^GRID_ERR_CODE_SIGNATURE: /);
    expect(existsSync(cacheDir()) ? readdirSync(cacheDir()) : []).toEqual([]);

    // 3. Control: the genuine bundle runs, is cached by hash, and its result comes back.
    bundle = (h) => ({ code, signature: signCodeHash(h, fake.keyPair) });
    const result = await fake.waitFor('result', (f) => f.result.results.some((r) => r.taskId === 3));
    const r = result.result.results.find((x) => x.taskId === 3)!;
    expect(r.errorCode).toBe('');
    expect(JSON.parse(Buffer.from(r.output!).toString())).toEqual({ from: 1, to: 100, start: 97, steps: 118 });
    expect(readdirSync(cacheDir())).toEqual([`${hash.toString('hex')}.mjs`]);
    expect(fake.frames.some((f) => f.kind === 'result' && f.result.results.some((x) => x.taskId !== 3))).toBe(false);
    expect(worker.events.filter((e) => e.event === 'code-refused')).toHaveLength(2);
  });
});
