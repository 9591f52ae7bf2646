import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS module with no type declarations, as users will write them.
import collatzModule from '../../examples/collatz-kind.mjs';
import { outputsAgree } from '../../jobs/compare.js';
import type { JobKind } from '../../jobs/types.js';
import { artifactText, runBatch, runEncoded } from './helpers.js';

const collatz = collatzModule as JobKind;

function chainBig(n: bigint): number {
  let s = 0;
  while (n !== 1n) {
    n = n % 2n === 0n ? n / 2n : 3n * n + 1n;
    s++;
  }
  return s;
}

describe('the worked example: examples/collatz-kind.mjs', () => {
  it('finds 77,031 (350 steps) as the longest chain below 10^5 across 10 work units', () => {
    const { inputs, artifact } = runBatch(collatz, { from: 1, to: 100_000, unitSize: 10_000 });
    expect(inputs).toHaveLength(10);
    expect(JSON.parse(artifactText(artifact))).toEqual({ from: 1, to: 100_000, start: 77_031, steps: 350, workUnits: 10 });
  });

  it('stays exact when a trajectory climbs past 2^53', () => {
    // 319,804,831 peaks at about 1.4e18 on its way down.
    const out = collatz.run(collatz.validateInput({ from: 319_804_831, to: 319_804_832 }));
    expect(out.steps).toBe(chainBig(319_804_831n));
  });

  it('honours the contract: validation names fields, outputs agree with themselves', () => {
    expect(() => collatz.validateInput({ from: 0, to: 5 })).toThrow(/from must be >= 1/);
    expect(() => collatz.validateInput({ from: 5, to: 5 })).toThrow(/to must be >= 6/);
    const a = runEncoded(collatz, { from: 1, to: 1000 });
    expect(outputsAgree(collatz, a, runEncoded(collatz, { from: 1, to: 1000 }))).toBe(true);
  });

  it('bundles for the browser on its own, importing nothing', async () => {
    const result = await build({
      entryPoints: [join(import.meta.dirname, '..', '..', 'examples', 'collatz-kind.mjs')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile.inputs)).toHaveLength(1);
  });
});
