/**
 * How deep a parsed JSON value nests, checked without recursion: a document nested thousands of
 * levels deep parses fine (JSON.parse is iterative) but overflows the stack of every recursive
 * walk after it (JSON.stringify, schema checks, msgpack), which would surface as a 500.
 */

/** Nesting allowed in params and policy: far beyond any real use, far below any stack limit. */
export const MAX_JSON_DEPTH = 64;

/** True when `value` has objects or arrays nested more than `limit` levels deep. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
