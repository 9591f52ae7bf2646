import { describe, expect, it } from 'vitest';
import { hpFold } from '../../jobs/hp-fold.js';
import { renderFoldSvg } from '../../jobs/hp-svg.js';
import { Xoshiro128 } from '../../jobs/prng.js';
import { canonicalPrefixes, foldEnergy, hhContacts, MOVES } from '../../jobs/hp-lattice.js';
import { contactCaps, searchFolds } from '../../jobs/hp-search.js';
import { artifactText, runBatch } from './helpers.js';

const STEP: Record<string, [number, number]> = { D: [0, -1], L: [-1, 0], R: [1, 0], U: [0, 1] };

/**
 * The reference: every self-avoiding walk of n − 1 moves, no symmetry breaking, no pruning,
 * contacts counted as each residue is placed. Returns the minimum energy and, among the optimal
 * folds that are canonical (first move R, first other move U), the lexicographically smallest.
 */
function bruteForce(sequence: string): { energy: number; canonicalBest: string } {
  const n = sequence.length;
  const at = new Map<string, number>([['0,0', 0]]);
  const moves: string[] = [];
  let best = 0;
  let canonicalBest: string | null = n === 1 ? '' : null;
  const walk = (x: number, y: number, contacts: number): void => {
    const i = moves.length + 1; // residue to place
    if (i === n) {
      const energy = contacts === 0 ? 0 : -contacts;
      const fold = moves.join('');
      const turn = fold.search(/[^R]/);
      const canonical = fold[0] === 'R' && (turn < 0 || fold[turn] === 'U');
      if (energy < best) {
        best = energy;
        canonicalBest = null;
      }
      if (energy === best && canonical && (canonicalBest === null || fold < canonicalBest)) canonicalBest = fold;
      return;
    }
    for (const m of MOVES) {
      const [dx, dy] = STEP[m]!;
      const nx = x + dx;
      const ny = y + dy;
      const key = `${nx},${ny}`;
      if (at.has(key)) continue;
      let gained = 0;
      if (sequence[i] === 'H') {
        for (const [ex, ey] of Object.values(STEP)) {
          const j = at.get(`${nx + ex},${ny + ey}`);
          if (j !== undefined && j !== i - 1 && sequence[j] === 'H') gained++;
        }
      }
      at.set(key, i);
      moves.push(m);
      walk(nx, ny, contacts + gained);
      moves.pop();
      at.delete(key);
    }
  };
  walk(0, 0, 0);
  return { energy: best, canonicalBest: canonicalBest! };
}

describe('hp-fold: lattice helpers', () => {
  it('enumerates (c_L − 4) / 8 + 1 canonical prefixes of L moves, in lexicographic order', () => {
    const sawCounts = [1, 4, 12, 36, 100, 284, 780, 2172]; // self-avoiding walks on the square lattice
    for (let L = 1; L < sawCounts.length; L++) {
      const prefixes = [...canonicalPrefixes(L)];
      expect(prefixes).toHaveLength((sawCounts[L]! - 4) / 8 + 1);
      expect([...prefixes].sort()).toEqual(prefixes);
    }
    expect([...canonicalPrefixes(0)]).toEqual(['']);
    expect([...canonicalPrefixes(3)]).toEqual(['RRR', 'RRU', 'RUL', 'RUR', 'RUU']);
  });

  it('scores contacts between non-consecutive H residues only', () => {
    // A unit square H-H-H-H: residues 0 and 3 touch.
    expect(hhContacts('HHHH', 'RUL')).toEqual([[0, 3]]);
    expect(foldEnergy('HHHH', 'RUL')).toBe(-1);
    expect(foldEnergy('HHPH', 'RUL')).toBe(-1);
    expect(foldEnergy('HPHH', 'RUL')).toBe(-1);
    expect(foldEnergy('PHHH', 'RUL')).toBe(0);
    expect(foldEnergy('HHHH', 'RRR')).toBe(0);
    expect(() => foldEnergy('HHHHH', 'RULD')).toThrow(/not self-avoiding/);
  });

  it('bounds future contacts soundly: caps never undercount what a fold achieves', () => {
    for (const seq of ['HPHPPHHPHH', 'HHHHHHHH', 'PHPHPHPH']) {
      const caps = contactCaps(seq);
      const { energy } = bruteForce(seq);
      expect(caps[0]!).toBeGreaterThanOrEqual(-energy);
    }
  });
});

describe('hp-fold: the job kind', () => {
  const sequences = ['HPHPPHHPHH', 'HHPPHH', 'HPPHPPHPHHPH', 'HHHHHHHHHHHH', 'PPPPPPP', 'PHPPHPHHHPHH', 'HH', 'H'];

  it('finds the brute-force minimum energy, and the smallest optimal canonical fold, for short chains', () => {
    for (const sequence of sequences) {
      const truth = bruteForce(sequence);
      expect(truth.canonicalBest, `${sequence} has a canonical optimal fold`).not.toBeNull();
      for (const prefixLength of [0, 2, 5]) {
        const { artifact } = runBatch(hpFold, { sequence, prefixLength });
        expect(artifact.summary, `${sequence} / ${prefixLength}`).toContain(`minimum energy ${truth.energy},`);
        expect(artifact.summary).toContain(`fold ${truth.canonicalBest || '(none)'};`);
      }
      expect(searchFolds(sequence, '')).toMatchObject({ energy: truth.energy, fold: truth.canonicalBest });
    }
  });

  it('agrees with brute force on 30 pseudo-random sequences of 6 to 10 residues', () => {
    const rng = new Xoshiro128(7);
    for (let k = 0; k < 30; k++) {
      const n = 6 + (rng.nextUint32() % 5);
      const sequence = Array.from({ length: n }, () => (rng.nextFloat() < 0.5 ? 'H' : 'P')).join('');
      const truth = bruteForce(sequence);
      expect(searchFolds(sequence, ''), sequence).toMatchObject({ energy: truth.energy, fold: truth.canonicalBest });
    }
  });

  it('solves the 20-mer benchmark HPHPPHHPHPPHPHHPPHPH at energy −9', () => {
    const { inputs, outputs, artifact } = runBatch(hpFold, { sequence: 'HPHPPHHPHPPHPHHPPHPH', prefixLength: 4 });
    expect(inputs).toHaveLength(13);
    expect(Math.min(...outputs.map((o) => o.energy ?? 0))).toBe(-9);
    const fold = /fold ([DLRU]+);/.exec(artifact.summary)![1]!;
    expect(foldEnergy('HPHPPHHPHPPHPHHPPHPH', fold)).toBe(-9);
    expect(artifact.contentType).toBe('image/svg+xml');
    expect(artifact.fileName).toBe('hp-fold.svg');
    const svg = artifactText(artifact);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(20);
    expect(svg.match(/fill="#000000"\/>/g)).toHaveLength(10); // one black disc per H
    expect(svg.match(/<line /g)).toHaveLength(9); // one dashed line per contact
  });

  it('keeps the whole caption inside the picture, wrapping a long fold string over lines', () => {
    for (const [sequence, fold] of [['HPHPPHHPHPPHPHHPPHPH', 'RUULDLULLDRDLDRRDRU'], ['H', ''], ['HH', 'R'], ['H'.repeat(40), 'R'.repeat(39)]] as const) {
      const svg = renderFoldSvg(sequence, fold, -1);
      const width = Number(/width="(\d+)"/.exec(svg)![1]);
      const lines = [...svg.matchAll(/<text x="(\d+)" y="\d+">([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), text: m[2]! }));
      expect(lines.length, sequence).toBeGreaterThanOrEqual(2);
      // Monospace at 14 px: 8.4 px a character.
      for (const l of lines) expect(l.x + l.text.length * 8.4, `${sequence}: ${l.text}`).toBeLessThanOrEqual(width);
      expect(lines.slice(1).map((l) => l.text).join(''), 'the fold string, uncut').toBe(fold || '(single residue)');
    }
  });

  it('reports a prefix that walls itself in as null, and the same output on every run', () => {
    // R U U L L D R ends on (0, 1), whose four neighbours are all taken: no fold goes on from there.
    const input = { sequence: 'HPHPHPHPHH', prefix: 'RUULLDR' };
    expect(hpFold.run(hpFold.validateInput(input))).toEqual({ prefix: 'RUULLDR', energy: null, fold: null, nodes: 0 });
    const live = { sequence: 'HPHPHPHPHH', prefix: 'RUU' };
    expect(hpFold.run(live)).toEqual(hpFold.run(live));
    expect(hpFold.run(live).fold!.startsWith('RUU')).toBe(true);
  });

  it('rejects bad inputs and params, naming the field', () => {
    expect(() => hpFold.validateInput({ sequence: 'HPX', prefix: '' })).toThrow(/sequence must be a non-empty string of the letters H and P/);
    expect(() => hpFold.validateInput({ sequence: 'HPHP', prefix: 'U' })).toThrow(/prefix must start with R/);
    expect(() => hpFold.validateInput({ sequence: 'HPHP', prefix: 'RD' })).toThrow(/first move other than R must be U/);
    expect(() => hpFold.validateInput({ sequence: 'HPHPHP', prefix: 'RULD' })).toThrow(/prefix is not self-avoiding/);
    expect(() => hpFold.validateInput({ sequence: 'HPH', prefix: 'RUL' })).toThrow(/at most 2 moves/);
    expect(() => [...hpFold.generate!({ prefixLength: 40 })]).toThrow(/prefixLength must be <= 16/);
  });
});
