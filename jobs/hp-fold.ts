import { canonicalPrefixes, checkCanonicalPrefix, foldEnergy, MAX_SEQUENCE, SEQUENCE_PATTERN } from './hp-lattice.js';
import { searchFolds } from './hp-search.js';
import { renderFoldSvg } from './hp-svg.js';
import type { JobKind, Json } from './types.js';
import { asObject, intField, strField } from './validate.js';

/**
 * One work unit: the folds of `sequence` whose move string starts with `prefix`, a canonical
 * self-avoiding walk (first move R, first other move U: see hp-lattice.ts).
 */
export interface HpFoldInput {
  sequence: string;
  prefix: string;
}

export interface HpFoldOutput {
  prefix: string;
  /** Minimum energy under the prefix; null when no fold extends it (the walk traps itself). */
  energy: number | null;
  /** The lexicographically smallest fold (moves U, D, L, R) reaching that energy. */
  fold: string | null;
  /** Residues placed by the branch and bound. */
  nodes: number;
}

interface HpFoldAcc {
  sequence: string | null;
  energy: number | null;
  fold: string | null;
  units: number;
  nodes: number;
}

const DEFAULT_SEQUENCE = 'HPHPPHHPHPPHPHHPPHPH';
const MAX_PREFIX = 16;

export const hpFold: JobKind<HpFoldInput, HpFoldOutput, HpFoldAcc> = {
  name: 'hp-fold',
  version: '1.0.0',
  description: 'Minimum-energy fold of an HP protein sequence on the 2D square lattice, by branch and bound split over move prefixes.',
  output: 'json',
  comparator: { type: 'exact' },
  params: [
    { name: 'sequence', type: 'string', default: DEFAULT_SEQUENCE, description: `H/P residues, 1 to ${MAX_SEQUENCE}` },
    { name: 'prefixLength', type: 'integer', default: 6, description: `moves fixed per work unit (0 to ${MAX_PREFIX}; 6 gives ~100 units)` },
  ],

  validateInput(input: unknown): HpFoldInput {
    const obj = asObject(input, 'hp-fold input');
    const sequence = validSequence(obj);
    const prefix = strField(obj, 'prefix');
    if (prefix.length > sequence.length - 1) throw new Error(`prefix must have at most ${sequence.length - 1} moves`);
    checkCanonicalPrefix(prefix, 'prefix');
    return { sequence, prefix };
  },

  run({ sequence, prefix }: HpFoldInput): HpFoldOutput {
    return { prefix, ...searchFolds(sequence, prefix) };
  },

  *generate(params: Json): Iterable<HpFoldInput> {
    const obj = asObject(params ?? {}, 'hp-fold params');
    const sequence = validSequence(obj, DEFAULT_SEQUENCE);
    const prefixLength = intField(obj, 'prefixLength', { min: 0, max: MAX_PREFIX, default: 6 });
    // Prefixes come in lexicographic order, so the first unit holding the best energy also holds
    // the lexicographically smallest optimal fold.
    for (const prefix of canonicalPrefixes(Math.min(prefixLength, sequence.length - 1))) yield { sequence, prefix };
  },

  reducer: {
    init: () => ({ sequence: null, energy: null, fold: null, units: 0, nodes: 0 }),
    add(acc, output, input) {
      if (acc.sequence !== null && acc.sequence !== input.sequence) throw new Error('hp-fold work units of one batch must share the sequence');
      acc.sequence = input.sequence;
      acc.units += 1;
      acc.nodes += output.nodes;
      // Strictly lower only: ties keep the earliest work unit.
      if (output.energy !== null && output.fold !== null && (acc.energy === null || output.energy < acc.energy)) {
        if (foldEnergy(input.sequence, output.fold) !== output.energy) throw new Error(`hp-fold result for prefix ${output.prefix} misstates its energy`);
        acc.energy = output.energy;
        acc.fold = output.fold;
      }
      return acc;
    },
    finish(acc) {
      if (acc.sequence === null || acc.energy === null || acc.fold === null) {
        return {
          contentType: 'image/svg+xml',
          fileName: 'hp-fold.svg',
          bytes: new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'),
          summary: `hp-fold: no fold found (${acc.units} work units)`,
        };
      }
      return {
        contentType: 'image/svg+xml',
        fileName: 'hp-fold.svg',
        bytes: new TextEncoder().encode(renderFoldSvg(acc.sequence, acc.fold, acc.energy)),
        summary: `hp-fold ${acc.sequence} (${acc.sequence.length} residues): minimum energy ${acc.energy}, fold ${acc.fold || '(none)'}; ${acc.units} work units, ${acc.nodes.toLocaleString('en-US')} nodes`,
      };
    },
  },
};

function validSequence(obj: Record<string, unknown>, fallback?: string): string {
  const sequence = strField(obj, 'sequence', fallback === undefined ? {} : { default: fallback });
  if (!SEQUENCE_PATTERN.test(sequence)) throw new Error('sequence must be a non-empty string of the letters H and P');
  if (sequence.length > MAX_SEQUENCE) throw new Error(`sequence must have at most ${MAX_SEQUENCE} residues`);
  return sequence;
}
