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
    // The distance is at least the difference in length: a name too long (or short) to be within
    // the bound below is not compared at all. A 15 MB param name from a request was a 15 M × 12
    // table, 42 s of the coordinator's thread and 2.4 GB, before this.
    if (Math.abs(name.length - candidate.length) > Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3))) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}

/** A name as an error message shows it: at most 64 characters, then "…" (names come from requests). */
export function shownName(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

/** " (did you mean X?)" or " (known: a, b, c)": the tail of an unknown-field error. */
export function unknownFieldHint(name: string, known: readonly string[]): string {
  const close = closestName(name, known);
  return close ? `; did you mean ${close}?` : `; known: ${known.join(', ')}`;
}
