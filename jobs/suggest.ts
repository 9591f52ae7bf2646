/**
 * "Did you mean …?" for misspelt field names: the closest known name by Damerau–Levenshtein
 * distance (adjacent swaps count as one edit, so `qourum` is one edit from `quorum`), compared
 * case-insensitively, and only when it is close enough to be a plausible typo.
 */

/** Optimal-string-alignment distance between two strings (Damerau–Levenshtein without re-edits). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The known name `name` was probably meant as, or undefined. Close enough means at most a third
 * of the longer name's letters edited (at least 1): `To`→`to`, `samplesPerUnits`→`samplesPerUnit`.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}

/** " (did you mean X?)" or " (known: a, b, c)": the tail of an unknown-field error. */
export function unknownFieldHint(name: string, known: readonly string[]): string {
  const close = closestName(name, known);
  return close ? `; did you mean ${close}?` : `; known: ${known.join(', ')}`;
}
