/**
 * Acting on the validator's verdicts (validator.ts judges; this file carries the judgement out):
 * a unit is decided (canonical result, reputation, outstanding copies withdrawn) or sent out for
 * more tasks. Here too the guard of adaptive replication: a worker caught in a lie has every
 * single copy it was trusted with checked again — and so has every identity seen in its network,
 * whose trust is reset, since a network must not vouch for itself — and before an adaptive batch
 * closes the single copies nobody has vouched for since are audited.
 */
import type { BatchLedger } from './batch-ledger.js';
import { type HotUnit, hydrateUnit, tallyOf } from './hot-unit.js';
import type { Networks } from './networks.js';
import type { Reputation } from './reputation.js';
import type { GridStore } from './store/index.js';
import { judge, type Verdict } from './validator.js';

/**
 * What carrying out a verdict takes besides the unit's ledger: the store for the unit's and
 * tasks' rows, who to credit or blame, and two of the scheduler's actions.
 */
export interface VerdictDeps {
  readonly store: GridStore;
  readonly reputation: Reputation;
  readonly networks: Networks;
  /** Cancels tasks at their workers and releases their leases (Scheduler.withdraw). */
  withdraw(taskIds: number[], reason: string): void;
  /** The ledger of a batch being scheduled, if it is. */
  ledger(batchId: string): BatchLedger | undefined;
  /** A unit wants more tasks: dispatch soon. */
  wantsTasks(): void;
}

export class Verdicts {
  #deps: VerdictDeps;
  #reopening = new Set<number>();
  /** Networks whose identities were re-checked in this tick. */
  #suspectNetworks = new Set<string>();

  constructor(deps: VerdictDeps) {
    this.#deps = deps;
  }

  /** Judges a unit of `batch` on the votes it has and acts on the verdict. */
  judge(batch: BatchLedger, unit: HotUnit): void {
    const rules = { quorum: unit.quorum, maxTasks: batch.policy.maxTasks, maxErrors: batch.policy.maxErrors };
    this.#apply(batch, unit, judge(tallyOf(unit), rules, batch.agree));
  }

  #apply(batch: BatchLedger, unit: HotUnit, verdict: Verdict): void {
    const { store } = this.#deps;
    switch (verdict.type) {
      case 'wait':
        return;
      case 'issue':
        unit.want += verdict.count;
        batch.enqueue(unit);
        this.#deps.wantsTasks();
        return;
      case 'accept': {
        // Accepted on one unchecked copy: counted apart until the batch closes, since catching
        // its worker later reopens the unit (the results stream holds back at such a unit).
        const single = verdict.agreeing.length === 1 && verdict.canonical.taskId === unit.provisionalTask;
        this.#decide(batch, unit, 'validated', single);
        batch.noteTaskMs(Math.min(...verdict.agreeing.map((v) => v.cpuMs)));
        for (const v of verdict.agreeing) {
          this.#deps.reputation.record(v.worker, 'valid', v.cpuMs);
          this.#deps.networks.note(v.network, 'valid');
        }
        for (const v of verdict.disagreeing) this.#caught(v.worker, v.network);
        store.defer(() => {
          store.finishWorkUnit(unit.id, 'validated', verdict.canonical.taskId, verdict.agreeing.length, null);
          for (const v of verdict.agreeing) store.setTaskState(v.taskId, 'valid');
          // Agreement with another identity confirms a single copy that was being re-checked.
          if (verdict.agreeing.length > 1) for (const v of verdict.agreeing) store.setTaskProvisional(v.taskId, false);
          for (const v of verdict.disagreeing) store.setTaskState(v.taskId, 'invalid');
        });
        return;
      }
      case 'fail':
        this.#decide(batch, unit, 'failed');
        store.defer(() => store.finishWorkUnit(unit.id, 'failed', null, 0, verdict.reason));
        return;
    }
  }

  /** Records the decision on the ledger (counted, out of memory) and withdraws the unit's outstanding tasks. */
  #decide(batch: BatchLedger, unit: HotUnit, outcome: 'validated' | 'failed', single = false): void {
    const outstanding = [...unit.outstanding];
    unit.outstanding.clear();
    batch.decide(unit, outcome, single);
    this.#deps.withdraw(outstanding, 'work unit already decided');
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
    const { store, reputation, networks } = this.#deps;
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
      const batch = this.#deps.ledger(row.batch_id);
      // Several verdicts against one worker can land in one tick, before the first reopening
      // is committed: reopen each unit once.
      if (!batch || batch.state !== 'running' || this.#reopening.has(row.wu_id)) continue;
      this.#reopening.add(row.wu_id);
      store.defer(() => store.reopenWorkUnit(row.wu_id));
      batch.reopened();
      store.afterCommit(() => {
        this.#reopening.delete(row.wu_id);
        this.#recheck(batch, row.wu_id);
      });
    }
  }

  /** Puts a reopened unit back in play with the batch's full quorum. */
  #recheck(batch: BatchLedger, wuId: number): void {
    const unit = hydrateUnit(this.#deps.store, wuId, batch.policy.quorum, (address, worker) => this.#deps.networks.of(address, worker));
    if (!unit || batch.hot.has(unit.id)) return;
    batch.hold(unit);
    this.judge(batch, unit);
  }

  /**
   * Before an adaptive batch closes: every accepted single copy whose worker has had no
   * quorum-checked valid result since is sent out again under the batch's full quorum (its own
   * vote stays and counts). Returns how many work units were reopened.
   */
  auditSingleCopies(batch: BatchLedger): number {
    const { store } = this.#deps;
    const rows = store.unvouchedSingleCopies(batch.id).map((wu_id) => ({ wu_id }));
    if (rows.length === 0) return 0;
    batch.reopenNow(rows.map((row) => row.wu_id), (wuId) => store.reopenWorkUnit(wuId));
    for (const row of rows) this.#recheck(batch, row.wu_id);
    return rows.length;
  }
}
