/**
 * The C examples of examples/wasm/ compute what physics says they should, as the committed
 * WebAssembly modules, and the committed bytes are what examples/wasm/build.sh makes from the
 * sources. Ising: Onsager's exact energy and Yang's spontaneous magnetisation, away from Tc where
 * an L = 32 lattice is close to the infinite one. N-body: the Benchmarks Game's published energies,
 * and the order of each integrator's energy error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISING_TC, onsagerEnergy, yangMagnetisation } from './physics.js';
import { runWasi } from './wasi.js';

const WASM_DIR = join(import.meta.dirname, '..', '..', 'examples', 'wasm');
const ISING = join(WASM_DIR, 'ising', 'ising.wasm');
const NBODY = join(WASM_DIR, 'nbody', 'nbody.wasm');

interface IsingOut {
  L: number;
  T: number;
  absM: number;
  absMErr: number;
  e: number;
  eErr: number;
  c: number;
  cErr: number;
  acceptance: number;
}
interface NbodyOut {
  scheme: string;
  dt: number;
  steps: number;
  e0: number;
  e1: number;
  maxDrift: number;
}

async function ising(input: Record<string, unknown>): Promise<IsingOut> {
  const r = await runWasi(ISING, 'ising', input);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as IsingOut;
}

async function nbody(input: Record<string, unknown>): Promise<NbodyOut> {
  const r = await runWasi(NBODY, 'nbody', input);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as NbodyOut;
}

describe('examples/wasm/ising', () => {
  it('T = 1.5, L = 32: |m| and e within 4 error bars of Yang and Onsager', async () => {
    const out = await ising({ T: 1.5, L: 32, seed: 1, therm: 1000, sweeps: 10000 });
    console.log(`T 1.5: |m| ${out.absM} ± ${out.absMErr} (Yang ${yangMagnetisation(1.5)}), e ${out.e} ± ${out.eErr} (Onsager ${onsagerEnergy(1.5)})`);
    expect(Math.abs(out.absM - yangMagnetisation(1.5))).toBeLessThan(4 * out.absMErr);
    expect(Math.abs(out.e - onsagerEnergy(1.5))).toBeLessThan(4 * out.eErr);
    expect(out.absMErr).toBeLessThan(1e-3); // error bars that mean something
    expect(out.eErr).toBeLessThan(2e-3);
  });

  it('T = 3.5, L = 32: e within 4 error bars of Onsager, |m| near 0 (finite size only)', async () => {
    const out = await ising({ T: 3.5, L: 32, seed: 2, therm: 1000, sweeps: 10000 });
    console.log(`T 3.5: |m| ${out.absM} ± ${out.absMErr}, e ${out.e} ± ${out.eErr} (Onsager ${onsagerEnergy(3.5)})`);
    expect(Math.abs(out.e - onsagerEnergy(3.5))).toBeLessThan(4 * out.eErr);
    expect(out.absM).toBeLessThan(0.1); // ~ sqrt(chi T / N) on a finite lattice, 0 in the limit
  });

  it('orders below Tc and not above: |m| falls and e rises across Tc', async () => {
    const low = await ising({ T: ISING_TC - 0.3, L: 16, seed: 3, therm: 500, sweeps: 2000 });
    const high = await ising({ T: ISING_TC + 0.3, L: 16, seed: 3, therm: 500, sweeps: 2000 });
    expect(low.absM).toBeGreaterThan(0.8);
    expect(high.absM).toBeLessThan(0.5);
    expect(low.e).toBeLessThan(high.e);
  });

  it('is deterministic per seed: the same input gives the same bytes, another seed another sample', async () => {
    const input = { T: 2.3, L: 16, seed: 7, therm: 100, sweeps: 1000 };
    const a = await runWasi(ISING, 'ising', input);
    const b = await runWasi(ISING, 'ising', input);
    const c = await runWasi(ISING, 'ising', { ...input, seed: 8 });
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
  });

  it('refuses bad parameters with exit code 2 and a message naming the parameter', async () => {
    for (const [input, message] of [
      [{ T: 0 }, /T must be/],
      [{ T: 2, L: 33 }, /L must be an even integer/],
      [{ T: 2, sweeps: 1001, bins: 20 }, /sweeps must be .* multiple of bins/],
      [{ T: 2, L: 1024, sweeps: 1e6 }, /at most 2e11/],
      [{ T: 2, colour: 'red' }, /unknown parameter: colour=red/],
    ] as const) {
      const r = await runWasi(ISING, 'ising', input);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('examples/wasm/ising/reduce.mjs', () => {
  it('folds a sweep into an SVG plot whose CSV table has one row per temperature, seeds combined', async () => {
    // By URL: a plain JS module, as kind authors write them, with no type declarations.
    const reducer = ((await import(pathToFileURL(join(WASM_DIR, 'ising', 'reduce.mjs')).href)) as { default: unknown }).default as {
      init(params: unknown, total: number): unknown;
      add(acc: unknown, output: unknown, input: unknown, seq: number): unknown;
      finish(acc: unknown): { contentType: string; fileName: string; bytes: Uint8Array; summary: string };
    };
    let acc = reducer.init({}, 6);
    let seq = 0;
    // Arrival in seq order: T-major, seeds innermost, as the manifest's sweep generates them.
    for (const T of [1.5, 2.5, 3.5]) {
      for (const seed of [0, 1]) {
        const input = { L: 16, T, bins: 10, seed, sweeps: 1000, therm: 200 };
        acc = reducer.add(acc, await ising(input), input, seq++);
      }
    }
    const art = reducer.finish(acc);
    expect(art.contentType).toBe('image/svg+xml');
    expect(art.fileName).toBe('ising.svg');
    const svg = new TextDecoder().decode(art.bytes);
    expect(svg).toMatch(/^<\?xml[^]*<svg[^]*<\/svg>\n$/);
    expect(svg).toContain('Tc = 2.269');
    const csv = /<metadata id="csv"><!\[CDATA\[\n([^]*?)\n\]\]>/.exec(svg)?.[1].split('\n') ?? [];
    expect(csv[0]).toBe('T,L,seeds,absM,absMErr,e,eErr,c,cErr,yangM,onsagerE');
    expect(csv.slice(1).map((row) => row.split(',').slice(0, 3).join(','))).toEqual(['1.5,16,2', '2.5,16,2', '3.5,16,2']);
    expect(art.summary).toMatch(/^ising L=16, 3 temperatures × 2 seeds: \|m\| 0\.98\d* ± [\d.e-]+ at T=1\.5 \(Yang 0\.9865\)/);
  });
});

describe('examples/wasm/nbody', () => {
  it('matches the published energies: -0.169075164 at the start, -0.169087605 after 1,000 steps of 0.01', async () => {
    const out = await nbody({ steps: 1000, dt: 0.01 });
    expect(out.e0.toFixed(9)).toBe('-0.169075164');
    expect(out.e1.toFixed(9)).toBe('-0.169087605');
  });

  it('leapfrog (kdk) energy error falls as dt², kick-drift (kd) as dt', async () => {
    const drift = async (scheme: string, dt: number) => (await nbody({ scheme, dt, years: 200, samples: 200 })).maxDrift;
    const kdk = (await drift('kdk', 0.008)) / (await drift('kdk', 0.004));
    const kd = (await drift('kd', 0.008)) / (await drift('kd', 0.004));
    console.log(`halving dt divides the energy error by ${kdk.toFixed(3)} (kdk) and ${kd.toFixed(3)} (kd)`);
    expect(kdk).toBeGreaterThan(3.6);
    expect(kdk).toBeLessThan(4.4);
    expect(kd).toBeGreaterThan(1.8);
    expect(kd).toBeLessThan(2.2);
  });

  it('refuses a bad scheme with exit code 2', async () => {
    const r = await runWasi(NBODY, 'nbody', { scheme: 'rk4' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scheme must be kd or kdk/);
  });
});

// The committed .wasm bytes come from Debian 12's clang 14 with its wasi-libc; another clang
// version makes other (equally valid) bytes, so the comparison is only meaningful with that one.
const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const clangSkip = clang.error
  ? 'clang is not installed (apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32)'
  : !/version 14\./.test(clang.stdout)
    ? `the committed bytes come from clang 14, this is ${clang.stdout.split('\n')[0]}`
    : null;
const hasGcc = !spawnSync('gcc', ['--version']).error;

describe.skipIf(clangSkip !== null)(`examples/wasm/build.sh${clangSkip ? ` (skipped: ${clangSkip})` : ''}`, () => {
  // Made in beforeAll, not at collection: a filtered run (-t) that skips these tests runs no hooks.
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'wasm-build-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('rebuilds the committed .wasm files byte for byte', () => {
    execFileSync(join(WASM_DIR, 'build.sh'), ['--out', out, ...(hasGcc ? ['--native'] : [])], { stdio: 'pipe' });
    for (const name of ['ising', 'nbody']) {
      expect(readFileSync(join(out, `${name}.wasm`)).equals(readFileSync(join(WASM_DIR, name, `${name}.wasm`))), `${name}.wasm`).toBe(true);
    }
  });

  it.skipIf(!hasGcc)('the native gcc build prints the same bytes as the WebAssembly module', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['ising', { T: 2.2, L: 16, seed: 5, therm: 200, sweeps: 2000 }],
      ['nbody', { scheme: 'kdk', dt: 0.01, steps: 2000 }],
    ];
    for (const [name, input] of cases) {
      const args = Object.keys(input).sort().map((k) => `${k}=${String(input[k])}`);
      const native = execFileSync(join(out, `${name}-native`), args, { encoding: 'utf8' });
      const wasm = await runWasi(join(WASM_DIR, name, `${name}.wasm`), name, input);
      expect(wasm.stdout).toBe(native);
    }
  });
});
