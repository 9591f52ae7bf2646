/**
 * WASM kinds without a grid around them: registration through the real CLI (`swarmgrid kind add
 * X.wasm --manifest`) with its coded refusals, and the sandbox running the real modules of
 * test/fixtures/wasm (built by its build.sh with clang --target=wasm32-wasi).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../helpers/sqlite.js';
import { encodeInput } from '../../jobs/codec.js';
import { packWasmBundle } from '../../jobs/wasm-bundle.js';
import { parseWasmManifest } from '../../jobs/wasm-manifest.js';
import { csvReducer } from '../../jobs/wasm-reduce.js';
import { canonicalOutput } from '../../jobs/wasm-run.js';
import { runWasmTask } from '../../jobs/wasm-task.js';
import { sweepUnits } from '../../jobs/wasm-units.js';
import { wasmJobKind } from '../../coordinator/wasm-kinds.js';
import { codeHash } from '../../proto/code-signature.js';
import { CLI } from '../helpers/grid.js';
import { wasmFixture } from '../helpers/wasm-kinds.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'swarmgrid-wasm-'));
  dirs.push(d);
  return d;
};
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function manifestFile(dir: string, manifest: unknown, name = 'kind.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return path;
}

function kindAdd(dataDir: string, module: string, manifest: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'kind', 'add', module, '--manifest', manifest, '--data', dataDir, '--init', '--json'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function run(module: string, input: unknown, manifest: Record<string, unknown> = {}, memoryMb = 0) {
  const m = parseWasmManifest({ name: 'fixture', version: '1.0.0', description: 'test fixture', ...manifest });
  const bundle = packWasmBundle({ manifest: m, module: readFileSync(wasmFixture(module)), scripts: {} });
  const outcome = await runWasmTask({ kind: 'fixture', codeHash: codeHash(bundle), bundle: () => bundle, input: encodeInput(input), memoryMb });
  return 'output' in outcome ? { text: Buffer.from(outcome.output).toString('utf8') } : outcome;
}

describe('swarmgrid kind add X.wasm --manifest', () => {
  const base = { name: 'floaty', version: '1.0.0', description: 'sums of libm functions' };

  it('registers a WASI command module, signed and listed as a wasm kind', () => {
    const data = tempDir();
    const r = kindAdd(data, wasmFixture('floaty.wasm'), manifestFile(tempDir(), base));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'floaty', version: '1.0.0', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const listed = JSON.parse(execFileSync(process.execPath, [CLI, 'kind', 'list', '--data', data, '--json'], { encoding: 'utf8' }));
    expect(listed).toMatchObject({ kind: 'floaty', runtime: 'wasm' });
  });

  it.each([
    ['a module that is not WebAssembly', 'floaty.c', base, 'GRID_ERR_WASM_MODULE', /not a WebAssembly 1\.0 binary/],
    ['a module importing a host function outside WASI', 'evil-import.wasm', base, 'GRID_ERR_WASM_IMPORT', /"env"\."host_exec"/],
    ['a module without _start (a reactor)', 'reactor.wasm', base, 'GRID_ERR_WASM_EXPORT', /does not export a function _start/],
    ['a manifest with an unknown field', 'floaty.wasm', { ...base, limts: {} }, 'GRID_ERR_WASM_MANIFEST', /unknown field "limts"/],
    ['a manifest without a version', 'floaty.wasm', { name: 'floaty', description: 'x' }, 'GRID_ERR_WASM_MANIFEST', /version/],
    ['a manifest with a built-in kind\'s name', 'floaty.wasm', { ...base, name: 'pi' }, 'GRID_ERR_WASM_MANIFEST', /built-in/],
    ['a manifest naming a missing reducer module', 'floaty.wasm', { ...base, reduce: { type: 'module', module: 'reduce.mjs' } }, 'GRID_ERR_WASM_MANIFEST', /reduce\.mjs/],
    ['a manifest that is not JSON', 'floaty.wasm', '{ name: floaty', 'GRID_ERR_WASM_MANIFEST', /cannot read/],
    ['a memory cap below the module\'s initial memory', 'floaty.wasm', { ...base, limits: { memoryPages: 1 } }, 'GRID_ERR_WASM_MODULE', /initial memory/],
  ])('refuses %s with a coded error', (_what, module, manifest, code, message) => {
    const data = tempDir();
    const r = kindAdd(data, wasmFixture(module), manifestFile(tempDir(), manifest));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${code}: `);
    expect(r.stderr).toMatch(message);
    const listed = execFileSync(process.execPath, [CLI, 'kind', 'list', '--data', data], { encoding: 'utf8' });
    expect(listed).toBe('');
  });
});

describe('the WASI sandbox', () => {
  it('runs a float-heavy C program and canonicalises the NaN and infinities printf wrote', async () => {
    const r = await run('floaty.wasm', { n: 2000 });
    expect('text' in r).toBe(true);
    const out = JSON.parse((r as { text: string }).text);
    expect(out).toMatchObject({ n: 2000, nan: 'NaN', inf: 'Infinity', ninf: '-Infinity' });
    expect(out.sqrt).toBeGreaterThan(0);
    console.log('floaty n=2000:', (r as { text: string }).text);
  });

  it('gives a program that opens a host file no file: a clean task error with stderr and the exit code', async () => {
    const r = await run('openfile.wasm', {});
    expect(r).toMatchObject({ errorCode: 'exception' });
    expect((r as { message: string }).message).toMatch(/^exit code 3: cannot open \/etc\/passwd: /);
  });

  it('gives every run of a unit the same clocks, sleep and random bytes; another unit other random bytes', async () => {
    const started = performance.now();
    const a = await run('clock.wasm', { unit: 1 });
    const b = await run('clock.wasm', { unit: 1 });
    const c = await run('clock.wasm', { unit: 2 });
    // The program sleeps 0.5 s three times on a real clock.
    console.log(`three runs with usleep(500000): ${(performance.now() - started).toFixed(0)} ms`);
    expect(a).toEqual(b);
    const av = JSON.parse((a as { text: string }).text);
    expect(av).toMatchObject({ time: 1700000000, realtime_ns: 0, monotonic_s: 0 });
    expect(JSON.parse((c as { text: string }).text).random).not.toBe(av.random);
  });

  it('caps memory by construction: malloc past limits.memoryPages returns NULL inside the module', async () => {
    const manifest = { limits: { memoryPages: 256 } }; // 16 MiB
    expect(await run('alloc.wasm', { mb: 8 }, manifest)).toEqual({ text: '{"allocated":true,"mb":8,"pages_touched":2048}' });
    expect(await run('alloc.wasm', { mb: 32 }, manifest)).toEqual({ text: '{"allocated":false,"mb":32,"pages_touched":0}' });
    // The task's own memory limit (policy memoryMb) caps too, below the manifest's.
    expect(await run('alloc.wasm', { mb: 32 }, {}, 16)).toEqual({ text: '{"allocated":false,"mb":32,"pages_touched":0}' });
    expect(await run('alloc.wasm', { mb: 32 }, {}, 0)).toEqual({ text: '{"allocated":true,"mb":32,"pages_touched":8192}' });
  });

  it('canonicalises outputs: JSON re-encoded with non-finite tokens as strings, -nan in text, bytes as they are', () => {
    const dec = (b: Uint8Array) => Buffer.from(b).toString('utf8');
    expect(dec(canonicalOutput('json', Buffer.from('{ "b": -nan, "a": [nan, NaN, -inf, INFINITY], "s": "nan inside" }\n')))).toBe('{"a":["NaN","NaN","-Infinity","Infinity"],"b":"NaN","s":"nan inside"}');
    expect(dec(canonicalOutput('text', Buffer.from('x=-nan y=nan z=-1.5 non-nanometre\n')))).toBe('x=nan y=nan z=-1.5 non-nanometre\n');
    expect(() => canonicalOutput('json', Buffer.from('T=1.5 m=0.9\n'))).toThrow(/not JSON/);
    expect(canonicalOutput('bytes', new Uint8Array([0xff, 0xf8, 0, 0]))).toEqual(new Uint8Array([0xff, 0xf8, 0, 0]));
  });
});

describe('units and reduction from the manifest', () => {
  const manifest = parseWasmManifest({
    name: 'ising', version: '1.0.0', description: 'x',
    params: [
      { name: 'T', type: 'number', default: { from: 1.5, to: 3.5, steps: 3 }, description: 'temperature' },
      { name: 'L', type: 'integer', default: 16, description: 'side' },
      { name: 'seeds', type: 'integer', default: 2, description: 'runs per point' },
    ],
    units: { type: 'sweep', sweep: ['T'], seeds: { field: 'seed', count: 'seeds' } },
    reduce: { type: 'csv', columns: ['T', 'seed', 'm'] },
  });

  it('sweeps axes × seeds with the fixed params in every unit, and refuses unknown or ill-typed params', () => {
    expect([...sweepUnits(manifest, {})]).toEqual([
      { L: 16, T: 1.5, seed: 0 }, { L: 16, T: 1.5, seed: 1 },
      { L: 16, T: 2.5, seed: 0 }, { L: 16, T: 2.5, seed: 1 },
      { L: 16, T: 3.5, seed: 0 }, { L: 16, T: 3.5, seed: 1 },
    ]);
    expect([...sweepUnits(manifest, { T: { from: 2, to: 2.3, steps: 4 }, seeds: 1, L: 8 })].map((u) => (u as { T: number }).T)).toEqual([2, 2.1, 2.2, 2.3]);
    expect([...sweepUnits(manifest, { T: [1, 2], seeds: 1 })]).toHaveLength(2);
    expect(() => [...sweepUnits(manifest, { Temp: 1 })]).toThrow(/unknown param Temp/);
    expect(() => [...sweepUnits(manifest, { L: 1.5 })]).toThrow(/L must be an integer/);
  });

  it('refuses an ill-typed sweep value before the first unit, wherever it sits on its axis', () => {
    const swept = parseWasmManifest({
      name: 'grid', version: '1.0.0', description: 'x',
      params: [
        { name: 'T', type: 'number', default: 1, description: 'temperature' },
        { name: 'L', type: 'integer', default: 16, description: 'side' },
      ],
      units: { type: 'sweep', sweep: ['L', 'T'] },
      output: 'json',
    });
    // Not the first point: a lazy check would have made (and stored, dispatched) the units before it.
    const first = (params: Record<string, unknown>) => sweepUnits(swept, params as never)[Symbol.iterator]().next();
    expect(() => first({ T: [1, 2, ...Array.from({ length: 1000 }, () => 3), 'x'] })).toThrow(/T must be a number, got "x"/);
    expect(() => first({ L: { from: 0, to: 100, steps: 4 } })).toThrow(/L must be an integer, got 33.3333333333/);
    expect(() => first({ L: { from: 0, to: 99, steps: 4 } })).not.toThrow();
  });

  it('reduces to CSV with named columns from output and input fields', () => {
    const r = csvReducer(manifest, ['T', 'seed', 'm'], 'ising.csv');
    let acc = r.init(undefined, 2);
    acc = r.add(acc, { m: 0.99, e: -1.9 }, { T: 1.5, L: 16, seed: 0 }, 0);
    acc = r.add(acc, { m: 'NaN', e: -1.1 }, { T: 3.5, L: 16, seed: 1 }, 1);
    const art = r.finish(acc);
    expect(art).toMatchObject({ contentType: 'text/csv', fileName: 'ising.csv' });
    expect(Buffer.from(art.bytes).toString()).toBe('T,seed,m\n1.5,0,0.99\n3.5,1,NaN\n');
  });
});

describe('JS generator and reducer modules named by the manifest', () => {
  it('are packed with the module at kind add and run by the coordinator', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'generate.mjs'), 'export default function* generate(params) { for (let i = 1; i <= params.count; i++) yield { n: i * 10 }; }\n');
    writeFileSync(join(dir, 'reduce.mjs'), [
      'export default {',
      '  init: () => ({ total: 0, rows: 0 }),',
      '  add: (acc, output) => ({ total: acc.total + output.n, rows: acc.rows + 1 }),',
      "  finish: (acc) => ({ contentType: 'image/svg+xml', fileName: 'plot.svg', bytes: new TextEncoder().encode(`<svg>${acc.total}</svg>`), summary: `${acc.rows} units` }),",
      '};',
    ].join('\n'));
    const manifest = manifestFile(dir, {
      name: 'floaty', version: '1.0.0', description: 'x',
      params: [{ name: 'count', type: 'integer', default: 3, description: 'units' }],
      units: { type: 'module', module: 'generate.mjs' },
      reduce: { type: 'module', module: 'reduce.mjs' },
    });
    const data = tempDir();
    const r = kindAdd(data, wasmFixture('floaty.wasm'), manifest);
    expect(r.status).toBe(0);
    const db = openStore(data);
    const row = db.prepare('SELECT code FROM kinds WHERE name = ?').get('floaty') as { code: Buffer };
    db.close();
    // What the coordinator makes of the stored bundle: the kind's generator and reducer.
    const kind = await wasmJobKind(row.code, tempDir());
    expect(kind.sandbox).toEqual({ type: 'wasm', timeoutMs: 0 });
    const inputs = [...kind.generate!({ count: 3 })];
    expect(inputs).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }]);
    let acc = kind.reducer!.init(undefined, 3);
    inputs.forEach((input, seq) => { acc = kind.reducer!.add(acc, { n: (input as { n: number }).n }, input, seq); });
    const art = kind.reducer!.finish(acc);
    expect(art).toMatchObject({ fileName: 'plot.svg', summary: '3 units' });
    expect(Buffer.from(art.bytes).toString()).toBe('<svg>60</svg>');
  });
});

describe.skipIf(spawnSync('clang', ['--version']).status !== 0)('test/fixtures/wasm/build.sh', () => {
  it('rebuilds the committed fixtures byte for byte', () => {
    const dir = tempDir();
    const src = fileURLToPath(new URL('../fixtures/wasm/', import.meta.url));
    execFileSync('cp', ['-r', src, join(dir, 'wasm')]);
    execFileSync('sh', [join(dir, 'wasm', 'build.sh')], { stdio: 'ignore' });
    for (const f of ['floaty', 'openfile', 'clock', 'loop', 'alloc', 'evil-import', 'reactor']) {
      expect(codeHash(readFileSync(join(dir, 'wasm', `${f}.wasm`))).toString('hex'), f).toBe(codeHash(readFileSync(wasmFixture(`${f}.wasm`))).toString('hex'));
    }
  }, 120_000);
});
