/**
 * Every batch spec in examples/ runs end to end the way a scientist would run it:
 * `swarmgrid submit SPEC --wait --out DIR` against a coordinator with two node workers
 * (replication 2), and the artifact written to DIR is checked.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CoordinatorProcess, TestGrid } from '../helpers/grid.js';

const run = promisify(execFile);
const examples = join(import.meta.dirname, '..', '..', 'examples');
let grid: TestGrid;
let coord: CoordinatorProcess;

beforeAll(async () => {
  grid = await new TestGrid().start();
  coord = await grid.coordinator();
  await Promise.all([grid.worker(), grid.worker()]);
});
afterAll(async () => {
  await grid?.close();
});

async function submit(spec: string): Promise<{ out: string; stdout: string; seconds: number }> {
  const out = grid.tempDir('swarmgrid-out-');
  const started = Date.now();
  const { stdout } = await run(process.execPath, [CLI, 'submit', join(examples, spec), '--wait', '--out', out], {
    env: { ...process.env, SWARMGRID_URL: coord.url, SWARMGRID_TOKEN: coord.token },
    timeout: 120_000,
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(`${spec}: ${seconds.toFixed(1)} s\n${stdout}`);
  return { out, stdout, seconds };
}

// hp-fold.json alone is ~375 million search nodes: minutes on a loaded two-core machine.
describe('examples/', { timeout: 240_000 }, () => {
  it('has one spec per built-in science kind', () => {
    const specs = readdirSync(examples).filter((f) => f.endsWith('.json'));
    expect(specs).toEqual(expect.arrayContaining(['pi.json', 'primes.json', 'mandelbrot.json', 'ode-sweep.json', 'hp-fold.json']));
  });

  it('pi.json: an estimate within 4 standard errors of π', async () => {
    const { out } = await submit('pi.json');
    const est = JSON.parse(readFileSync(join(out, 'pi.json'), 'utf8')) as { estimate: number; stderr: number };
    expect(Math.abs(est.estimate - Math.PI)).toBeLessThan(4 * est.stderr);
  });

  it('primes.json: π(10^9) = 50,847,534 and 3,424,506 twin pairs, exactly', async () => {
    const { out } = await submit('primes.json');
    const totals = JSON.parse(readFileSync(join(out, 'primes.json'), 'utf8')) as { primes: number; twinPairs?: number; twins?: number };
    expect(totals.primes).toBe(50_847_534);
    expect(totals.twinPairs ?? totals.twins).toBe(3_424_506);
  });

  it('mandelbrot.json: a PNG of the requested size', async () => {
    const { out } = await submit('mandelbrot.json');
    const png = decode(readFileSync(join(out, 'mandelbrot.png')));
    expect([png.width, png.height]).toEqual([800, 600]);
  });

  it('ode-sweep.json: a CSV with a header and one row per (β, γ) point', async () => {
    const { out } = await submit('ode-sweep.json');
    const rows = readFileSync(join(out, 'ode-sweep.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(1 + 50 * 50);
    expect(rows[0]).toMatch(/beta/i);
  });

  it('hp-fold.json: an SVG of an optimal fold, with its energy', async () => {
    const { out, stdout } = await submit('hp-fold.json');
    expect(readFileSync(join(out, 'hp-fold.svg'), 'utf8')).toMatch(/^<svg|<\?xml/);
    expect(stdout).toMatch(/minimum energy -\d+/);
  });
});
