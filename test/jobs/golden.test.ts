import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_PARAMS, goldenDigests } from './golden.js';

const FILE = new URL('./golden-outputs.json', import.meta.url);

describe('built-in kinds, golden outputs', () => {
  const digests = goldenDigests();
  if (process.env.SWARMGRID_RECORD_GOLDEN === '1') writeFileSync(FILE, JSON.stringify(digests, null, 1) + '\n');
  const golden = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string[][]>;

  it('covers every built-in kind', () => {
    expect(Object.keys(golden).sort()).toEqual(Object.keys(GOLDEN_PARAMS).sort());
  });

  for (const name of Object.keys(GOLDEN_PARAMS)) {
    it(`${name}: every work unit's output is byte-identical to the recorded one`, () => {
      expect(golden[name]!.flat().length).toBeGreaterThan(0);
      expect(digests[name]).toEqual(golden[name]);
    });
  }
});
