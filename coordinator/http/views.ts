/** JSON views of store rows for the API: one place decides what clients see, in the shapes of shapes.ts. */
import type { BatchLedger } from '../batch-ledger.js';
import { batchViewState } from '../states.js';
import type { BatchRow, WorkerRow } from '../store/index.js';
import type { WorkerHandle } from '../worker-handle.js';
import { groupVotes } from '../validator.js';
import { storedPolicy } from '../policy.js';
import type { BatchView, WorkerView } from './shapes.js';

/** A connected volunteer, as the waiting note sees it. */
type Volunteer = WorkerHandle & {
  readonly welcomed: boolean;
  readonly network: string;
  hasDeclined?(kind: string): boolean;
  readonly trustsCoordinator?: boolean;
};

/** Who is connected to run a running batch (`volunteers` in its status). */
export interface VolunteerCounts {
  /** Volunteers connected (past their Hello). */
  connected: number;
  /** Of those, the ones that run the batch's kind. */
  able: number;
  /** Of those connected, the ones that declined the kind, or will: node workers that do not --trust this coordinator are offered custom kinds and decline them. */
  declinedBy: number;
  /** Networks the able ones are on (with --local-grid: identities). */
  networks: number;
}

export interface WaitingNote {
  /** Why the batch can decide nothing; null when it can. */
  reason: string | null;
  volunteers: VolunteerCounts;
}

/**
 * Who can run a running batch and, when the volunteers connected cannot form its quorum, why not:
 * none is connected, none can run its kind (they declined it: `declineReason` says why, e.g.
 * untrusted code), or they are on fewer networks than the quorum needs (networks.ts).
 * undefined when the batch is not running (a stalled one included: its note is in `error`).
 */
export function waitingNote(
  runtime: BatchLedger | undefined,
  volunteers: Iterable<Volunteer>,
  localGrid: boolean,
  declineReason: (kind: string, custom: boolean) => string | undefined = () => undefined,
): WaitingNote | undefined {
  if (!runtime || runtime.state !== 'running') return undefined;
  const { kind, codeHash, policy } = runtime;
  const custom = codeHash !== null;
  const networks = new Set<string>();
  let connected = 0;
  let able = 0;
  let declinedBy = 0;
  for (const v of volunteers) {
    if (!v.welcomed) continue;
    connected++;
    const wasm = kind.sandbox?.type === 'wasm';
    // A node worker that does not trust us is offered a custom JS kind only to say no (session.ts);
    // WASM kinds run sandboxed without trust.
    const willDecline = custom && !wasm && v.runtime === 'node' && v.trustsCoordinator === false;
    if (v.hasDeclined?.(kind.name) || willDecline) declinedBy++;
    if (willDecline || !v.canRun(kind.name, kind.version, custom, wasm)) continue;
    able++;
    networks.add(v.network);
  }
  const counts = { connected, able, declinedBy, networks: networks.size };
  if (networks.size >= policy.quorum) return { reason: null, volunteers: counts };
  const name = `${kind.name}@${kind.version}`;
  let reason: string;
  if (connected === 0) reason = `waiting for volunteers: none is connected to run ${name} (volunteers join with swarmgrid worker --grid and --bootstrap of this coordinator, or open its page)`;
  else if (able === 0 && declinedBy > 0) {
    const why = declineReason(kind.name, custom);
    reason = `waiting for volunteers: none of the ${connected} connected can run ${name}: ${declinedBy} declined it${why ? ` (${why})` : ''}`;
  } else if (able === 0) reason = `waiting for volunteers: none of the ${connected} connected can run ${name}`;
  else if (localGrid) reason = `waiting for volunteers: quorum ${policy.quorum} needs ${policy.quorum} volunteers, ${networks.size} connected`;
  else {
    const list = [...networks].slice(0, 3).join(', ');
    reason = `waiting for volunteers: quorum ${policy.quorum} needs volunteers on ${policy.quorum} networks, and the ${able} connected are on ${networks.size} (${list}); `
      + 'volunteers of one network (IPv4 /24, IPv6 /64) count as one. For a grid of your own machines, run the coordinator with --local-grid';
  }
  return { reason, volunteers: counts };
}

/**
 * Whether a batch's single unchecked copies (adaptive replication) can still be reopened: while
 * it runs. Once it is closed, every decision of it is final.
 */
export function decisionsOpen(row: Pick<BatchRow, 'state'>): boolean {
  return row.state === 'loading' || row.state === 'running';
}

/**
 * A batch's status: its counts from the row, its state from its ledger while it has one (a live
 * batch: `finishing` and `stalled` are the ledger's; a stalled one shows as `running`).
 */
export function batchView(row: BatchRow, runtime: BatchLedger | undefined, note?: WaitingNote): BatchView {
  // Counters never go backwards: `validated` counts final decisions only; units accepted on a
  // single unchecked copy are `provisional` (a gauge, like pending) until their batch closes,
  // since catching their worker reopens them.
  const provisional = decisionsOpen(row) ? row.provisional : 0;
  const validated = row.validated - provisional;
  const decided = row.validated + row.failed;
  let inconclusive = 0;
  let inProgress = 0;
  // Only undecided units are hot, and at most a few chunks of them: cheap enough per request.
  if (runtime) {
    for (const unit of runtime.hot.values()) {
      if (unit.done) continue;
      if (unit.outstanding.size > 0) inProgress++;
      if (unit.votes.length >= 2 && groupVotes(unit.votes, runtime.agree).length > 1) inconclusive++;
    }
  }
  const undecided = Math.max(0, row.total - decided);
  const pending = row.state === 'cancelled' ? 0 : undecided;
  const now = Date.now();
  const elapsed = ((row.finished_at ?? now) - row.created_at) / 1000;
  // Running: the rate over the last minute (proto/rate-meter.ts), once it spans two seconds; else, and
  // once finished, the average since submission.
  // A stalled batch (its kind is missing): no progress, no ETA.
  const recent = row.state === 'running' ? (runtime && runtime.state !== 'stalled' ? runtime.rate.perSecond(now, decided) : 0) : undefined;
  const rate = recent ?? (elapsed > 0 ? decided / elapsed : 0);
  const state = runtime ? batchViewState(runtime.state) : row.state;
  return {
    id: row.id,
    kind: row.kind,
    kindVersion: row.kind_version,
    state,
    total: row.total,
    counts: { validated, provisional, failed: row.failed, pending, inProgress, inconclusive, cancelled: row.state === 'cancelled' ? undecided : 0 },
    progress: row.total > 0 ? (validated + row.failed) / row.total : 0,
    tasksIssued: row.tasks_issued,
    ratePerSecond: Number(rate.toFixed(3)),
    etaSeconds: row.state === 'running' && rate > 0 ? Math.round(pending / rate) : null,
    policy: storedPolicy(row.policy),
    params: row.params === null ? null : (JSON.parse(row.params) as Record<string, unknown>),
    owner: row.owner,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    summary: row.summary,
    artifact: row.artifact_type ? { contentType: row.artifact_type, fileName: row.artifact_name ?? '' } : null,
    error: row.error,
    waiting: note?.reason ?? null,
    volunteers: note?.volunteers ?? null,
  };
}

/**
 * A worker as the API shows it. Its network address is recorded for abuse protection (the
 * scheduler keeps one address from voting twice on a unit) and shown to operators only: the
 * public view is what a volunteer would agree to publish.
 */
export function workerView(row: WorkerRow, connected: boolean, withAddress = false): Omit<WorkerView, 'threads'> {
  const judged = row.valid + row.invalid;
  return {
    key: row.key,
    // Written by the session from the Hello's runtime: 'node' or 'browser'.
    runtime: row.runtime as WorkerView['runtime'],
    ...(withAddress && { address: row.address }),
    connected,
    firstSeen: new Date(row.first_seen).toISOString(),
    lastSeen: new Date(row.last_seen).toISOString(),
    reputation: {
      valid: row.valid,
      invalid: row.invalid,
      errors: row.errors,
      timedOut: row.timeouts,
      consecutiveValid: row.consecutive_valid,
      score: judged > 0 ? Number((row.valid / judged).toFixed(4)) : null,
    },
    tasksDone: row.tasks_done,
    cpuSeconds: Math.round(row.cpu_ms / 1000),
  };
}
