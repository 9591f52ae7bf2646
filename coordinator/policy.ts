/** Per-batch validation and scheduling policy: defaults, validation, and the resolved shape. */
import { shownName, unknownFieldHint } from '../jobs/suggest.js';
import { CoordinatorErrors } from './errors.js';
import type { PolicyView } from './http/shapes.js';

export interface Policy {
  /** Tasks issued per work unit at first. @defaultValue 2 */
  replication?: number;
  /** Agreeing results needed for a canonical result. @defaultValue 2 */
  quorum?: number;
  /** Give up on a work unit after issuing this many tasks. @defaultValue replication + 3 */
  maxTasks?: number;
  /** Give up on a work unit after this many task errors. @defaultValue 3 */
  maxErrors?: number;
  /** Lease per task, in seconds. @defaultValue 60 */
  lease?: number;
  /** Per-task wall-time limit at the worker, in seconds (0 = one lease length). @defaultValue 0 */
  timeout?: number;
  /** Per-task heap limit at the worker, in MB (0 = worker default). @defaultValue 0 */
  memoryMb?: number;
  /** Higher runs first. @defaultValue 0 */
  priority?: number;
  /** Adaptive replication (single copies for trusted workers). @defaultValue false */
  adaptive?: boolean;
  /** Consecutive valid results before a worker is trusted with single copies. @defaultValue 10 */
  trustAfter?: number;
  /** Probability that a trusted worker's single copy is still replicated. @defaultValue 0.1 */
  spotCheck?: number;
}

export type ResolvedPolicy = Required<Policy>;

// The API shows a batch's policy in the shape of http/shapes.ts: the build fails if the two differ.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const policyShapeMatches: Same<ResolvedPolicy, PolicyView> = true;
void policyShapeMatches;

export const kDefaultPolicy: Readonly<Omit<ResolvedPolicy, 'maxTasks'>> = Object.freeze({
  replication: 2,
  quorum: 2,
  maxErrors: 3,
  lease: 60,
  timeout: 0,
  memoryMb: 0,
  priority: 0,
  adaptive: false,
  trustAfter: 10,
  spotCheck: 0.1,
});

const keys = new Set([...Object.keys(kDefaultPolicy), 'maxTasks']);

function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw CoordinatorErrors.INVALID_POLICY(`policy.${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function num(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw CoordinatorErrors.INVALID_POLICY(`policy.${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

/**
 * A policy as a batch row stores it (`batches.policy`, JSON), with every field the row lacks filled
 * in as resolvePolicy fills an absent one: rows are resolved when submitted, but a row stored by an
 * older version lacks the fields added since, and the status schema requires each of them.
 */
export function storedPolicy(text: string): ResolvedPolicy {
  const stored = JSON.parse(text) as Partial<ResolvedPolicy>;
  const quorum = stored.quorum ?? kDefaultPolicy.quorum;
  const replication = stored.replication ?? Math.max(kDefaultPolicy.replication, quorum);
  return { ...kDefaultPolicy, quorum, replication, maxTasks: replication + 3, ...stored };
}

/** Fills defaults and checks every field; the error names the bad field. */
export function resolvePolicy(input: unknown): ResolvedPolicy {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) throw CoordinatorErrors.INVALID_POLICY('policy must be an object');
  const p = input as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (key === 'distinctAddress') {
      throw CoordinatorErrors.INVALID_POLICY('policy.distinctAddress is gone: no two tasks of a work unit ever go to one network (see docs/SECURITY.md); a coordinator for a local grid runs with --local-grid');
    }
    if (!keys.has(key)) throw CoordinatorErrors.INVALID_POLICY(`unknown field policy.${shownName(key)}${unknownFieldHint(key, [...keys])}`);
  }
  const d = kDefaultPolicy;
  const quorum = int(p.quorum ?? d.quorum, 'quorum', 1, 16);
  const replication = int(p.replication ?? Math.max(d.replication, quorum), 'replication', 1, 16);
  if (replication < quorum) throw CoordinatorErrors.INVALID_POLICY('policy.replication must be >= policy.quorum');
  const maxTasks = int(p.maxTasks ?? replication + 3, 'maxTasks', replication, 64);
  const adaptive = p.adaptive ?? d.adaptive;
  if (typeof adaptive !== 'boolean') throw CoordinatorErrors.INVALID_POLICY('policy.adaptive must be a boolean');
  return Object.freeze({
    replication,
    quorum,
    maxTasks,
    maxErrors: int(p.maxErrors ?? d.maxErrors, 'maxErrors', 1, 64),
    lease: num(p.lease ?? d.lease, 'lease', 0.1, 7 * 86400),
    timeout: num(p.timeout ?? d.timeout, 'timeout', 0, 86400),
    memoryMb: int(p.memoryMb ?? d.memoryMb, 'memoryMb', 0, 65536),
    priority: int(p.priority ?? d.priority, 'priority', -1000, 1000),
    adaptive,
    trustAfter: int(p.trustAfter ?? d.trustAfter, 'trustAfter', 1, 1_000_000),
    spotCheck: num(p.spotCheck ?? d.spotCheck, 'spotCheck', 0, 1),
  });
}
