/**
 * Where a coordinator's task ids start. Ids only grow (validation reads "later" as a greater id),
 * and must never be issued twice, also when the store is restored from an older copy: a worker
 * may still hold, or be computing, tasks the lost copy issued after the backup, and would answer
 * a new task that reused one of those ids with the old task's output. The store cannot know
 * those ids, so each start jumps past anything a lost incarnation can have issued: to the wall
 * clock in ms × IDS_PER_MS (no coordinator issues 1,024 tasks a millisecond over its lifetime),
 * plus a random offset of up to about a second's worth against clocks that read alike. Ids stay
 * below 2^53 (exact as JavaScript numbers) until the year 2248.
 */
export const IDS_PER_MS = 1024;

/** The id before the first one this start issues: at least `maxStored`. */
export function taskIdBase(maxStored: number, now = Date.now(), random = Math.random): number {
  return Math.max(maxStored, now * IDS_PER_MS + Math.floor(random() * IDS_PER_MS * 1024));
}
