/**
 * WASM kinds on a real grid (coordinator and worker child processes, a local DHT): a volunteer
 * without --trust runs a WASM kind registered with `swarmgrid kind add X.wasm --manifest` and
 * declines a JS custom kind; a module that loops forever is stopped by the time limit of its
 * manifest and the worker keeps serving; a volunteer with --no-wasm declines WASM kinds; and a
 * tampered WASM bundle is refused by a volunteer, trust or not.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInput } from '../../jobs/codec.js';
import { packWasmBundle } from '../../jobs/wasm-bundle.js';
import { parseWasmManifest } from '../../jobs/wasm-manifest.js';
import { runWasmTask } from '../../jobs/wasm-task.js';
import { codeHash, signCodeHash } from '../../proto/code-signature.js';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { FakeCoordinator } from './fake-coordinator.js';
import { addKind, client, COLLATZ, tasks } from './helpers.js';
import { addWasmKind, wasmFixture } from '../helpers/wasm-kinds.js';

const FLOATY = {
  name: 'floaty', version: '1.0.0', description: 'sums of libm functions',
  params: [{ name: 'n', type: 'integer', default: [100, 200, 300], description: 'terms' }],
  units: { type: 'sweep', sweep: ['n'] },
  reduce: { type: 'csv', columns: ['n', 'sin', 'exp', 'nan'], fileName: 'floaty.csv' },
};
const LOOP = { name: 'spin-wasm', version: '1.0.0', description: 'never ends', limits: { timeoutMs: 2000 } };

describe('WASM kinds on node volunteers', () => {
  const grid = new TestGrid();
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    await grid.start();
    coord = await grid.coordinator();
  }, 120_000);
  afterAll(() => grid.close());

  it('a volunteer with --no-wasm declines a WASM kind; one without --trust runs it, declines a JS kind, survives an endless module', async () => {
    const floaty = addWasmKind(coord.dataDir, 'floaty.wasm', FLOATY);
    addWasmKind(coord.dataDir, 'loop.wasm', LOOP);
    addKind(coord.dataDir, COLLATZ);

    // 1. --no-wasm: the kind is declined with its reason, nothing runs.
    const refusing = await grid.worker({ args: ['--no-wasm'] });
    const refusingKey = (await refusing.waitFor('worker-started')).key as string;
    await coord.waitFor('worker-joined', (e) => e.worker === refusingKey);
    const api = client(coord);
    const first = await api.submit({ kind: 'floaty', params: {}, policy: { replication: 1, quorum: 1 } });
    const declined = await refusing.waitFor('kind-declined');
    expect(declined.reason).toMatch(/^GRID_ERR_WASM_REFUSED: /);
    await refusing.stop();

    // 2. No --trust: the WASM kind runs, to the same bytes as this process's own run of the module.
    const volunteer = await grid.worker({ threads: 1 });
    const volunteerKey = (await volunteer.waitFor('worker-started')).key as string;
    const listed = (await api.kinds()).find((k) => k.name === 'floaty');
    expect(listed).toMatchObject({ custom: true, runtime: 'wasm', generator: true, reducer: true, output: 'json' });
    const done = await api.wait(first.id, undefined, 200);
    expect(done.state).toBe('completed');
    const results: { seq: number; input: unknown; output: unknown }[] = [];
    for await (const line of api.results(first.id, -1)) results.push({ seq: line.seq, output: line.output, input: { n: [100, 200, 300][line.seq] } });
    expect(results.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(results.map((r) => (r.output as { n: number }).n)).toEqual([100, 200, 300]);
    const manifest = parseWasmManifest(FLOATY);
    const local = packWasmBundle({ manifest, module: readFileSync(wasmFixture('floaty.wasm')), scripts: {} });
    expect(codeHash(local).toString('hex')).toBe(floaty.hash);
    for (const r of results) {
      const mine = await runWasmTask({ kind: 'floaty', codeHash: codeHash(local), bundle: () => local, input: encodeInput(r.input), memoryMb: 0 });
      expect('output' in mine && JSON.parse(Buffer.from(mine.output).toString())).toEqual(r.output);
    }
    expect((results[0]!.output as { nan: string }).nan).toBe('NaN');
    const artifact = await api.artifact(first.id);
    expect(artifact.fileName).toBe('floaty.csv');
    const csv = Buffer.from(artifact.bytes).toString();
    expect(csv.split('\n')[0]).toBe('n,sin,exp,nan');
    expect(csv.split('\n')).toHaveLength(5);
    console.log(`floaty.csv from the grid:\n${csv}`);

    // 3. The JS kind is declined: this volunteer does not trust the coordinator.
    await api.submit({ kind: 'collatz', params: { from: 1, to: 1001, unitSize: 500 }, policy: { replication: 1, quorum: 1 } });
    const untrusted = await volunteer.waitFor('kind-declined');
    expect(untrusted).toMatchObject({ kind: 'collatz' });
    expect(untrusted.reason).toMatch(/^GRID_ERR_UNTRUSTED_CODE: /);
    expect((await api.kinds()).find((k) => k.name === 'collatz')).toMatchObject({ runtime: 'js' });
    expect(volunteer.events.some((e) => e.event === 'kind-declined' && e.kind === 'floaty')).toBe(false);

    // 4. An endless module: stopped by the manifest's 2 s limit, a clean task error each time.
    const spin = await api.submit({ kind: 'spin-wasm', inputs: [{}], policy: { replication: 1, quorum: 1, maxErrors: 1 } });
    const failed = await volunteer.waitFor('task-failed', (e) => e.kind === 'spin-wasm', 60_000);
    expect(failed).toMatchObject({ error: 'timeout' });
    expect(String(failed.message)).toMatch(/time limit of 2000 ms/);
    const spun = await api.wait(spin.id, undefined, 200);
    expect(spun.counts.failed).toBe(1);
    expect(tasks(coord, spin.id).every((t) => t.worker === volunteerKey && t.state === 'error')).toBe(true);

    // ...and the worker keeps serving.
    const again = await api.submit({ kind: 'floaty', params: { n: [400] }, policy: { replication: 1, quorum: 1 } });
    expect((await api.wait(again.id, undefined, 200)).state).toBe('completed');
  }, 300_000);
});

describe('a tampered WASM bundle', () => {
  const grid = new TestGrid();
  const fake = new FakeCoordinator();
  const manifest = parseWasmManifest(FLOATY);
  const bundle = packWasmBundle({ manifest, module: readFileSync(wasmFixture('floaty.wasm')), scripts: {} });
  const hash = codeHash(bundle);
  let serve: (requested: Uint8Array) => { code: Uint8Array; signature: Uint8Array };
  const jsCode = readFileSync(COLLATZ);
  const jsHash = codeHash(jsCode);
  let nextTaskId = 1;

  beforeAll(async () => {
    await grid.start();
    await fake.start(grid.grid, grid.dht!.port);
    fake.script = (frame, send) => {
      if (frame.kind === 'credit' && nextTaskId <= 3) {
        const taskId = nextTaskId++;
        send({ assign: { tasks: [{ taskId, batchId: 'b', seq: taskId, kind: 'floaty', kindVersion: '1.0.0', codeHash: hash, wasm: true, input: encodeInput({ n: 10 }), leaseMs: 60_000 }] } });
      }
      if (frame.kind === 'result' && frame.result.results.some((r) => r.taskId === 3) && nextTaskId === 4) {
        // A lying coordinator: JavaScript, correctly hashed and signed, sent as a WASM kind.
        const taskId = nextTaskId++;
        send({ assign: { tasks: [{ taskId, batchId: 'b', seq: taskId, kind: 'collatz', kindVersion: '1.0.0', codeHash: jsHash, wasm: true, input: encodeInput({ from: 1, to: 100 }), leaseMs: 60_000 }] } });
      }
      if (frame.kind === 'codeRequest') {
        const js = Buffer.from(frame.codeRequest.codeHash).equals(jsHash);
        send({ codeBundle: { codeHash: frame.codeRequest.codeHash, kind: js ? 'collatz' : 'floaty', kindVersion: '1.0.0', ...(js ? { code: jsCode, signature: signCodeHash(jsHash, fake.keyPair) } : serve(frame.codeRequest.codeHash)) } });
      }
    };
  }, 120_000);
  afterAll(async () => {
    await grid.close();
    await fake.close();
  });

  it('is refused by a volunteer without --trust (bytes that do not match, a foreign signature); the genuine one runs', async () => {
    const tampered = Buffer.from(bundle);
    tampered[tampered.length - 100] ^= 1; // one bit of the module's code
    serve = (h) => ({ code: tampered, signature: signCodeHash(h, fake.keyPair) });
    await grid.worker({ args: ['--coordinator', fake.key] });
    const first = await fake.waitFor('decline', (f) => f.decline.taskIds.includes(1));
    expect(first.decline.reason).toMatch(/^GRID_ERR_CODE_HASH_MISMATCH: /);

    // Unsigned: an empty signature.
    serve = () => ({ code: bundle, signature: new Uint8Array(0) });
    const second = await fake.waitFor('decline', (f) => f.decline.taskIds.includes(2));
    expect(second.decline.reason).toMatch(/^GRID_ERR_CODE_SIGNATURE: /);

    serve = (h) => ({ code: bundle, signature: signCodeHash(h, fake.keyPair) });
    const result = await fake.waitFor('result', (f) => f.result.results.some((r) => r.taskId === 3));
    const r = result.result.results.find((x) => x.taskId === 3)!;
    expect(r.errorCode).toBe('');
    expect(JSON.parse(Buffer.from(r.output!).toString())).toMatchObject({ n: 10, nan: 'NaN' });

    // JavaScript labelled "wasm": the runtime follows the bundle's bytes, so it is declined unrun.
    const fourth = await fake.waitFor('decline', (f) => f.decline.taskIds.includes(4));
    expect(fourth.decline).toMatchObject({ kind: 'collatz' });
    expect(fourth.decline.reason).toMatch(/^GRID_ERR_UNTRUSTED_CODE: /);
    expect(fake.frames.some((f) => f.kind === 'result' && f.result.results.some((x) => x.taskId === 4))).toBe(false);
  }, 120_000);
});
