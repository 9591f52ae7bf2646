/**
 * Acting on the validator's verdicts (validator.ts judges; this file carries the judgement out):
 * a unit is decided (canonical result, reputation, outstanding copies withdrawn) or sent out for
 * more tasks. Here too the guard of adaptive replication: a worker caught in a lie has every
 * single copy it was trusted with checked again — and so has every identity seen in its network,
 * whose trust is reset, since a network must not vouch for itself — and before an adaptive batch
 * closes the single copies nobody has vouched for since are audited.
 */
import { type BatchRuntime, enqueue, removeFromReady } from './batch-runtime.js';
import type { BatchCounters } from './batch-counters.js';
import { type HotUnit, hydrateUnit, tallyOf } from './hot-unit.js';
import type { Leases } from './leases.js';
import type { Networks } from './networks.js';
import type { Reputation } from './reputation.js';
import type { GridStore } from './store/index.js';
import { judge, type Verdict } from './validator.js';
import { noteTaskMs } from './work-buffer.js';
import type { WorkerHandle } from './worker-handle.js';

/** What the scheduler shares with the verdicts it acts on. */
export interface VerdictContext {
  readonly store: GridStore;
  readonly reputation: Reputation;
  readonly leases: Leases;
  readonly networks: Networks;
  readonly batches: Map<string, BatchRuntime>;
  readonly workers: Set<WorkerHandle>;
  readonly counters: BatchCounters;
  readonly stats: { validated: number; failed: number };
  /** Units decided in this tick: the store still says 'pending' until the commit. */
  readonly decidedUncommitted: Set<number>;
  scheduleDispatch(): void;
  onBatchDecided?: (batch: BatchRuntime) => void;
}

export class Verdicts {
  #ctx: VerdictContext;
  #reopening = new Set<number>();
  /** Networks whose identities were re-checked in this tick. */
  #suspectNetworks = new Set<string>();

  constructor(context: VerdictContext) {
    this.#ctx = context;
  }

  /** Judges a unit on the votes it has and acts on the verdict. */
  judge(batch: BatchRuntime, unit: HotUnit): void {
    const rules = { quorum: unit.quorum, maxTasks: batch.policy.maxTasks, maxErrors: batch.policy.maxErrors };
    this.#apply(batch, unit, judge(tallyOf(unit), rules, batch.agree));
  }

  #apply(batch: BatchRuntime, unit: HotUnit, verdict: Verdict): void {
    const { store } = this.#ctx;
    switch (verdict.type) {
      case 'wait':
        return;
      case 'issue':
        unit.want += verdict.count;
        enqueue(batch, unit);
        this.#ctx.scheduleDispatch();
        return;
      case 'accept': {
        this.#decide(batch, unit);
        // Accepted on one unchecked copy: counted apart until the batch closes, since catching
        // its worker later reopens the unit (the results stream holds back at such a unit).
        const single = verdict.agreeing.length === 1 && verdict.canonical.taskId === unit.provisionalTask;
        noteTaskMs(batch, Math.min(...verdict.agreeing.map((v) => v.cpuMs)));
        for (const v of verdict.agreeing) {
          this.#ctx.reputation.record(v.worker, 'valid', v.cpuMs);
          this.#ctx.networks.note(v.network, 'valid');
        }
        for (const v of verdict.disagreeing) this.#caught(v.worker, v.network);
        store.defer(() => {
          store.finishWorkUnit(unit.id, 'validated', verdict.canonical.taskId, verdict.agreeing.length, null);
          for (const v of verdict.agreeing) store.setTaskState(v.taskId, 'valid');
          // Agreement with another identity confirms a single copy that was being re-checked.
          if (verdict.agreeing.length > 1) for (const v of verdict.agreeing) store.setTaskProvisional(v.taskId, false);
          for (const v of verdict.disagreeing) store.setTaskState(v.taskId, 'invalid');
          if (single) store.bumpProvisional(batch.id, 1);
        });
        this.#ctx.counters.add(batch.id, 1, 0);
        batch.validated++;
        this.#ctx.stats.validated++;
        break;
      }
      case 'fail':
        this.#decide(batch, unit);
        store.defer(() => {
          store.finishWorkUnit(unit.id, 'failed', null, 0, verdict.reason);
          store.bumpBatchCounts(batch.id, 0, 1, 0);
        });
        batch.failed++;
        this.#ctx.stats.failed++;
        break;
    }
    batch.rate.note(Date.now(), batch.validated + batch.failed);
    if (batch.state === 'running' && batch.validated + batch.failed >= batch.total) this.#ctx.onBatchDecided?.(batch);
  }

  /** Marks a unit decided, withdraws its outstanding tasks and forgets it. */
  #decide(batch: BatchRuntime, unit: HotUnit): void {
    unit.done = true;
    // Until the decision is committed, the store would hand the unit back as pending to a
    // refill or a late result in this same tick: keep it out of reach till then.
    this.#ctx.decidedUncommitted.add(unit.id);
    this.#ctx.store.afterCommit(() => this.#ctx.decidedUncommitted.delete(unit.id));
    removeFromReady(batch, unit);
    batch.hot.delete(unit.id);
    this.withdraw([...unit.outstanding], 'work unit already decided');
    unit.outstanding.clear();
  }

  /** Cancels tasks at their workers and releases their leases. */
  withdraw(taskIds: number[], reason: string): void {
    const { store, leases } = this.#ctx;
    const byWorker = new Map<string, number[]>();
    for (const id of taskIds) {
      const lease = leases.get(id);
      if (!lease) continue;
      leases.delete(id);
      byWorker.set(lease.worker, [...(byWorker.get(lease.worker) ?? []), id]);
      store.defer(() => store.setTaskState(id, 'cancelled'));
    }
    for (const [key, ids] of byWorker) {
      for (const w of this.#ctx.workers) if (w.key === key) store.afterCommit(() => w.sendCancel(ids, reason));
    }
  }

  /**
   * A worker returned a result that lost to a quorum. Besides the reputation hit, every single
   * copy it was trusted with in a running batch is checked again under the batch's full quorum:
   * adaptive replication must never let a worker that turned bad keep its unchecked results.
   * Its old vote stays (it may well be right) and is judged with the new ones. The identities
   * seen in its network are treated alike (their trust reset, their single copies re-checked):
   * identities are free, so its siblings may be the same liar.
   */
  #caught(workerKey: string, network: string): void {
    const { store, reputation, networks } = this.#ctx;
    reputation.record(workerKey, 'invalid');
    networks.note(network, 'invalid');
    // Many lies of one network are often caught in one tick: its siblings are re-checked once.
    const suspects = new Set([workerKey]);
    if (!this.#suspectNetworks.has(network)) {
      this.#suspectNetworks.add(network);
      store.afterCommit(() => this.#suspectNetworks.delete(network));
      for (const key of networks.identities(network)) suspects.add(key);
    }
    for (const key of suspects) if (key !== workerKey) reputation.record(key, 'distrust');
    const rows = [...suspects].flatMap((key) => store.singleCopiesOf(key));
    for (const row of rows) {
      const batch = this.#ctx.batches.get(row.batch_id);
      // Several verdicts against one worker can land in one tick, before the first reopening
      // is committed: reopen each unit once.
      if (!batch || batch.state !== 'running' || this.#reopening.has(row.wu_id)) continue;
      this.#reopening.add(row.wu_id);
      store.defer(() => {
        store.reopenWorkUnit(row.wu_id);
        store.bumpBatchCounts(batch.id, -1, 0, 0);
        store.bumpProvisional(batch.id, -1);
      });
      batch.validated--;
      store.afterCommit(() => {
        this.#reopening.delete(row.wu_id);
        this.#recheck(batch, row.wu_id);
      });
    }
  }

  /** Puts a reopened unit back in play with the batch's full quorum. */
  #recheck(batch: BatchRuntime, wuId: number): void {
    const unit = hydrateUnit(this.#ctx.store, wuId, batch.policy.quorum, (address, worker) => this.#ctx.networks.of(address, worker));
    if (!unit || batch.hot.has(unit.id)) return;
    batch.hot.set(unit.id, unit);
    this.judge(batch, unit);
  }

  /**
   * Before an adaptive batch closes: every accepted single copy whose worker has had no
   * quorum-checked valid result since is sent out again under the batch's full quorum (its own
   * vote stays and counts). Returns how many work units were reopened.
   */
  auditSingleCopies(batch: BatchRuntime): number {
    const { store } = this.#ctx;
    const rows = store.unvouchedSingleCopies(batch.id).map((wu_id) => ({ wu_id }));
    if (rows.length === 0) return 0;
    store.transaction(() => {
      for (const row of rows) store.reopenWorkUnit(row.wu_id);
      store.bumpBatchCounts(batch.id, -rows.length, 0, 0);
      store.bumpProvisional(batch.id, -rows.length);
    });
    batch.validated -= rows.length;
    for (const row of rows) this.#recheck(batch, row.wu_id);
    return rows.length;
  }
}
