/**
 * The validator: decides, from the results a work unit has so far, whether a quorum agrees
 * (and on what), whether more tasks must be issued, or whether to give up. Pure: no I/O, so
 * every rule is unit-tested on its own (test/coordinator/validator.test.ts).
 */
import { outputsAgree } from '../jobs/compare.js';
import type { JobKind } from '../jobs/types.js';

/** One successful result of a task. */
export interface Vote {
  taskId: number;
  worker: string;
  /** The worker's network (networks.ts): a quorum counts networks, not identities. */
  network: string;
  /** CPU time the worker reported for the task, at most what its lease allowed (ms). */
  cpuMs: number;
  /** Hex SHA-256 of the output bytes. */
  digest: string;
  output: Uint8Array;
}

export interface Tally {
  votes: readonly Vote[];
  /** Networks whose task threw (errors from one network count once). */
  errors: number;
  /**
   * Networks whose task of this unit outran its lease without a word: the worker crashed, was
   * killed, or went away while running it. @defaultValue 0
   */
  lost?: number;
  /** Tasks ever issued for this work unit. */
  issued: number;
  /** Tasks out at workers right now. */
  outstanding: number;
  /** Tasks decided but not issued yet. */
  want: number;
}

export interface Rules {
  quorum: number;
  maxTasks: number;
  maxErrors: number;
  /** Give up after tasks lost in this many networks. @defaultValue MAX_LOST_NETWORKS */
  maxLost?: number;
}

/**
 * A unit whose tasks were lost in this many networks fails with `workers_lost`: a unit that
 * kills (or hangs) every worker it reaches must not go round the grid taking them down one
 * after another until maxTasks. Three: one worker lost is bad luck, three in a row is the unit.
 */
export const MAX_LOST_NETWORKS = 3;

export type Verdict =
  | { type: 'accept'; canonical: Vote; agreeing: Vote[]; disagreeing: Vote[] }
  | { type: 'issue'; count: number }
  | { type: 'wait' }
  | { type: 'fail'; reason: 'no_quorum' | 'too_many_errors' | 'workers_lost'; disagreeing: Vote[] };

/** Whether two votes' outputs agree: a kind's comparator (jobs/compare.ts) applied to votes. */
export type Agree = (a: Vote, b: Vote) => boolean;

/** The `exact` comparator (the default): equal bytes, told by their digests. */
export const exactAgree: Agree = (a, b) => a.digest === b.digest;

/**
 * A kind's comparator, for votes: equal digests always agree; a `tolerance` or `custom`
 * comparator decides the rest (outputsAgree). The one place the validator's agreement comes from.
 */
export function agreeFor(kind: JobKind): Agree {
  const comparator = kind.comparator ?? { type: 'exact' };
  if (comparator.type === 'exact') return exactAgree;
  return (a, b) => a.digest === b.digest || outputsAgree(kind, a.output, b.output);
}

/**
 * Groups votes into classes of agreeing outputs. Each class is represented by its first
 * (earliest) member, so the canonical result is deterministic given arrival order.
 */
export function groupVotes(votes: readonly Vote[], agree: Agree): Vote[][] {
  const groups: Vote[][] = [];
  for (const vote of votes) {
    const group = groups.find((g) => agree(g[0]!, vote));
    if (group) group.push(vote);
    else groups.push([vote]);
  }
  return groups;
}

export function judge(tally: Tally, rules: Rules, agree: Agree = exactAgree): Verdict {
  const groups = groupVotes(tally.votes, agree);
  // A quorum is of independent networks: identities are free to mint, so votes from one network
  // (siblings of one household, or a replayed result) count as one. On a local grid every
  // identity is its own network (networks.ts).
  const size = (g: Vote[]) => new Set(g.map((v) => v.network)).size;
  let best: Vote[] = [];
  for (const g of groups) if (size(g) > size(best)) best = g;
  if (size(best) >= rules.quorum) {
    return { type: 'accept', canonical: best[0]!, agreeing: best, disagreeing: groups.filter((g) => g !== best).flat() };
  }
  if (tally.errors >= rules.maxErrors) return { type: 'fail', reason: 'too_many_errors', disagreeing: [...tally.votes] };
  if ((tally.lost ?? 0) >= (rules.maxLost ?? MAX_LOST_NETWORKS)) return { type: 'fail', reason: 'workers_lost', disagreeing: [...tally.votes] };
  const needed = rules.quorum - size(best);
  const coming = tally.outstanding + tally.want;
  if (coming >= needed) return { type: 'wait' };
  const capacity = rules.maxTasks - tally.issued - tally.want;
  if (capacity <= 0) {
    return coming === 0 ? { type: 'fail', reason: 'no_quorum', disagreeing: [...tally.votes] } : { type: 'wait' };
  }
  return { type: 'issue', count: Math.min(needed - coming, capacity) };
}
