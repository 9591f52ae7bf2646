import { MOVE_D, MOVE_R, MOVE_U, MOVES } from './hp-lattice.js';

export interface FoldSearchResult {
  /** Lowest energy of a canonical fold extending the prefix, or null if the prefix is a dead end. */
  energy: number | null;
  /** The lexicographically smallest fold with that energy. */
  fold: string | null;
  /** Residues placed by the search: a deterministic measure of the work done. */
  nodes: number;
}

/**
 * Upper bounds on the H–H contacts still to come, by residue. A contact is credited to the later
 * residue of the pair when it is placed. Residue i then touches at most 2 earlier residues besides
 * i − 1 (3 if it is the chain's last), and only H residues j <= i − 3 with i − j odd: the square
 * lattice is bipartite, so a contact joins residues of opposite parity. cap[k] sums residues k…n−1.
 */
export function contactCaps(sequence: string): Int32Array {
  const n = sequence.length;
  const cap = new Int32Array(n + 1);
  const earlierH = [0, 0]; // H residues at indexes <= i − 3, by parity
  for (let i = 0; i < n; i++) {
    if (i >= 3 && sequence[i - 3] === 'H') earlierH[(i - 3) & 1]! += 1;
    if (sequence[i] === 'H') cap[i] = Math.min(i === n - 1 ? 3 : 2, earlierH[(i & 1) ^ 1]!);
  }
  for (let i = n - 1; i >= 0; i--) cap[i]! += cap[i + 1]!;
  return cap;
}

/**
 * Depth-first branch and bound over the canonical folds that start with `prefix` (already checked
 * canonical and self-avoiding). Children are tried in move order D < L < R < U, and a subtree is
 * pruned only when its bound cannot beat the best energy *strictly*; so the first fold found with
 * the final best energy is the lexicographically smallest one, and the result is deterministic.
 */
export function searchFolds(sequence: string, prefix: string): FoldSearchResult {
  const n = sequence.length;
  if (n === 1) return { energy: 0, fold: '', nodes: 0 };
  const size = 2 * n + 3;
  const step = [-size, -1, 1, size]; // site offsets of D, L, R, U
  // Grid of residue index + 1 per site (0 = empty), with a margin so neighbours never wrap.
  const grid = new Int32Array(size * size);
  const isH = Uint8Array.from(sequence, (c) => (c === 'H' ? 1 : 0));
  const site = new Int32Array(n);
  const moves = new Uint8Array(n - 1);
  const caps = contactCaps(sequence);
  let bestContacts = -1;
  let bestMoves: Uint8Array | null = null;
  let nodes = 0;

  /** Contacts gained by putting residue i on site s. */
  const gain = (i: number, s: number): number => {
    if (isH[i] === 0) return 0;
    let g = 0;
    for (let m = 0; m < 4; m++) {
      const r = grid[s + step[m]!]! - 1;
      if (r >= 0 && r !== i - 1 && isH[r] === 1) g++;
    }
    return g;
  };

  // Lay down the prefix.
  let contacts = 0;
  let broken = false;
  site[0] = (n + 1) * size + (n + 1);
  grid[site[0]] = 1;
  for (let i = 1; i <= prefix.length; i++) {
    const m = MOVES.indexOf(prefix[i - 1]!);
    const s = site[i - 1]! + step[m]!;
    contacts += gain(i, s);
    grid[s] = i + 1;
    site[i] = s;
    moves[i - 1] = m;
    if (m !== MOVE_R) broken = true;
  }

  const place = (i: number, contacts: number, broken: boolean): void => {
    if (i === n) {
      if (contacts > bestContacts) {
        bestContacts = contacts;
        bestMoves = moves.slice();
      }
      return;
    }
    if (contacts + caps[i]! <= bestContacts) return;
    for (let m = 0; m < 4; m++) {
      if (i === 1 && m !== MOVE_R) continue;
      if (!broken && m === MOVE_D) continue;
      const s = site[i - 1]! + step[m]!;
      if (grid[s] !== 0) continue;
      nodes++;
      const c = contacts + gain(i, s);
      grid[s] = i + 1;
      site[i] = s;
      moves[i - 1] = m;
      place(i + 1, c, broken || m === MOVE_U);
      grid[s] = 0;
    }
  };
  place(prefix.length + 1, contacts, broken);

  if (bestMoves === null) return { energy: null, fold: null, nodes };
  const fold = Array.from(bestMoves as Uint8Array, (m) => MOVES[m]!).join('');
  return { energy: bestContacts === 0 ? 0 : -bestContacts, fold, nodes };
}
