/**
 * The 2D square lattice of the HP protein model. A fold of an n-residue chain is a string of
 * n − 1 absolute moves (U, D, L, R; y grows upwards) that visits no site twice. Its energy is −1
 * per pair of H residues on neighbouring sites that are not neighbours along the chain.
 *
 * Symmetry: the 8 rotations and reflections of a fold have the same energy. A fold is
 * *canonical* when its first move is R and its first move other than R (if any) is U. Every fold
 * has exactly one canonical image (rotate the first move onto R, then reflect in the x axis if the
 * first turn goes down), so searching canonical folds only loses no energy level.
 */

/** Moves in lexicographic order: searching in this order visits folds in string order. */
export const MOVES = 'DLRU';
export const DX = [0, -1, 1, 0] as const;
export const DY = [-1, 0, 0, 1] as const;
export const MOVE_R = 2;
export const MOVE_U = 3;
export const MOVE_D = 0;

export const SEQUENCE_PATTERN = /^[HP]+$/;
export const MAX_SEQUENCE = 100;

/** Lattice coordinates of each residue, starting at (0, 0). Throws if the walk is not self-avoiding. */
export function foldCoordinates(fold: string): [number, number][] {
  const coords: [number, number][] = [[0, 0]];
  const seen = new Set<string>(['0,0']);
  let x = 0;
  let y = 0;
  for (let i = 0; i < fold.length; i++) {
    const m = MOVES.indexOf(fold[i]!);
    if (m < 0) throw new Error(`fold has an unknown move '${fold[i]}' at ${i}: moves are U, D, L, R`);
    x += DX[m]!;
    y += DY[m]!;
    const key = `${x},${y}`;
    if (seen.has(key)) throw new Error(`fold is not self-avoiding: residue ${i + 1} revisits (${x}, ${y})`);
    seen.add(key);
    coords.push([x, y]);
  }
  return coords;
}

/** Pairs (i, j), i < j − 1, of H residues on neighbouring sites. */
export function hhContacts(sequence: string, fold: string): [number, number][] {
  if (fold.length !== sequence.length - 1) throw new Error(`fold must have ${sequence.length - 1} moves, has ${fold.length}`);
  const coords = foldCoordinates(fold);
  const at = new Map<string, number>();
  coords.forEach(([x, y], i) => at.set(`${x},${y}`, i));
  const out: [number, number][] = [];
  coords.forEach(([x, y], i) => {
    if (sequence[i] !== 'H') return;
    for (let m = 0; m < 4; m++) {
      const j = at.get(`${x + DX[m]!},${y + DY[m]!}`);
      if (j !== undefined && j > i + 1 && sequence[j] === 'H') out.push([i, j]);
    }
  });
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Energy of a complete fold: −(number of H–H contacts). */
export function foldEnergy(sequence: string, fold: string): number {
  const contacts = hhContacts(sequence, fold).length;
  return contacts === 0 ? 0 : -contacts;
}

/** Throws unless `moves` is a self-avoiding canonical (see above) prefix of a fold. */
export function checkCanonicalPrefix(moves: string, what: string): void {
  if (!/^[DLRU]*$/.test(moves)) throw new Error(`${what} must contain only the moves U, D, L, R`);
  if (moves.length > 0 && moves[0] !== 'R') throw new Error(`${what} must start with R (rotational symmetry is broken that way)`);
  const turn = moves.search(/[^R]/);
  if (turn >= 0 && moves[turn] !== 'U') throw new Error(`${what}: the first move other than R must be U (reflection symmetry)`);
  try {
    foldCoordinates(moves);
  } catch {
    throw new Error(`${what} is not self-avoiding`);
  }
}

/**
 * All canonical self-avoiding walks of `length` moves, in lexicographic order, lazily. These are
 * the work-unit prefixes: every canonical fold of a longer chain extends exactly one of them.
 */
export function* canonicalPrefixes(length: number): Generator<string> {
  const size = 2 * length + 3;
  const occupied = new Uint8Array(size * size);
  const origin = (length + 1) * size + (length + 1);
  occupied[origin] = 1;
  const moves: string[] = [];
  function* extend(site: number, broken: boolean): Generator<string> {
    if (moves.length === length) {
      yield moves.join('');
      return;
    }
    for (let m = 0; m < 4; m++) {
      if (moves.length === 0 && m !== MOVE_R) continue;
      if (!broken && m === MOVE_D) continue;
      const next = site + DX[m]! + DY[m]! * size;
      if (occupied[next] !== 0) continue;
      occupied[next] = 1;
      moves.push(MOVES[m]!);
      yield* extend(next, broken || m === MOVE_U);
      moves.pop();
      occupied[next] = 0;
    }
  }
  yield* extend(origin, false);
}
