/**
 * The scheduler: feeds ready tasks to workers against their credits, under leases, and turns
 * results into verdicts through the validator. The store is the truth; memory holds only the
 * hot units (loaded in chunks by the feeder) and the leases out at workers.
 *
 * Rules it enforces: no worker identity ever gets two tasks of one work unit; optionally no two
 * tasks of one work unit to one network address; a task that throws is an error, not a vote;
 * nothing is acknowledged to a worker before it is committed.
 */
import { type BatchRuntime, dequeueAt, enqueue, removeFromReady } from './batch-runtime.js';
import { digestOf, type HotUnit, hydrateUnit, newUnit, tallyOf } from './hot-unit.js';
import { Leases } from './leases.js';
import { Reputation } from './reputation.js';
import type { Store } from './store.js';
import { judge, type Verdict } from './validator.js';
import type { WorkerHandle } from './worker-handle.js';
import type { swarmgrid } from '../proto/codec.js';

export interface SchedulerOptions {
  /** Work units loaded from the store per refill. @defaultValue 1000 */
  refillChunk?: number;
  /** Most hot units per batch: bounds memory when some workers run far ahead. @defaultValue 20000 */
  maxHotPerBatch?: number;
  /** How far into the ready list to look for a unit this worker may take. @defaultValue 256 */
  scanLimit?: number;
  /** Lease sweep period in ms. @defaultValue 250 */
  sweepMs?: number;
  /** Random source for spot checks (tests pass a seeded one). */
  random?: () => number;
}

export interface SchedulerEvents {
  /** Every unit of the batch is decided. */
  onBatchDecided?: (batch: BatchRuntime) => void;
}

export interface TaskOutcome {
  taskId: number;
  output?: Uint8Array;
  errorCode?: string;
  cpuMs: number;
}

export class Scheduler {
  readonly store: Store;
  readonly reputation: Reputation;
  readonly batches = new Map<string, BatchRuntime>();
  readonly workers = new Set<WorkerHandle>();
  readonly leases: Leases;
  readonly stats = { issued: 0, results: 0, errors: 0, expired: 0, abandoned: 0, validated: 0, failed: 0 };
  #opts: Required<Omit<SchedulerOptions, 'random'>>;
  #random: () => number;
  #events: SchedulerEvents;
  #nextTaskId: number;
  #dispatchScheduled = false;
  #rotation = 0;
  #reopening = new Set<number>();
  /** Units decided in this tick: the store still says 'pending' until the commit. */
  #decidedUncommitted = new Set<number>();
  /** Batch counters (validated, issued) of this tick, written once per batch per commit. */
  #counts: Map<string, [number, number]> | undefined;

  constructor(store: Store, options: SchedulerOptions = {}, events: SchedulerEvents = {}) {
    this.store = store;
    this.reputation = new Reputation(store);
    this.#opts = { refillChunk: 1000, maxHotPerBatch: 20_000, scanLimit: 256, sweepMs: 250, ...options };
    this.#random = options.random ?? Math.random;
    this.#events = events;
    this.#nextTaskId = store.maxTaskId();
    this.leases = new Leases(this.#opts.sweepMs, (taskId) => this.#expire(taskId));
    // Leases outstanding when the coordinator stopped stay valid: their workers may come back.
    for (const t of store.leasedTasks()) this.leases.add(t.id, t.wu_id, t.worker, t.deadline);
  }

  addBatch(batch: BatchRuntime): void {
    this.batches.set(batch.id, batch);
    this.scheduleDispatch();
  }

  /** More units were ingested for a batch: the feeder may look past its cursor again. */
  unitsAdded(batchId: string): void {
    const batch = this.batches.get(batchId);
    if (batch) batch.exhausted = false;
    this.scheduleDispatch();
  }

  attach(worker: WorkerHandle): void {
    this.workers.add(worker);
    this.reputation.seen(worker.key, worker.runtime, worker.address);
  }

  detach(worker: WorkerHandle): void {
    this.workers.delete(worker);
  }

  scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      for (const w of this.workers) if (w.credit > 0) this.dispatch(w);
    });
  }

  /** Issues tasks to one worker up to its credit, highest-priority batches first. */
  dispatch(worker: WorkerHandle): void {
    if (worker.credit <= 0) return;
    const active = [...this.batches.values()].filter((b) => b.state === 'running' || b.state === 'loading');
    if (active.length === 0) return;
    // Equal priorities take turns: rotate the starting batch on every call.
    const offset = this.#rotation++ % active.length;
    const order = [...active.slice(offset), ...active.slice(0, offset)].sort((a, b) => b.policy.priority - a.policy.priority);
    const tasks: swarmgrid.ITask[] = [];
    for (const batch of order) {
      if (!worker.canRun(batch.kind.name, batch.kind.version, batch.codeHash !== null)) continue;
      while (worker.credit > 0) {
        const unit = this.#pick(batch, worker);
        if (!unit) break;
        tasks.push(this.#issue(batch, unit, worker));
        worker.credit--;
      }
      if (worker.credit <= 0) break;
    }
    if (tasks.length > 0) this.store.afterCommit(() => worker.sendTasks(tasks));
  }

  #pick(batch: BatchRuntime, worker: WorkerHandle): HotUnit | undefined {
    if (batch.ready.length < this.#opts.refillChunk / 2) this.#refill(batch);
    const distinct = batch.policy.distinctAddress === 'all' || (batch.policy.distinctAddress === 'browser' && worker.runtime === 'browser');
    const limit = Math.min(batch.ready.length, this.#opts.scanLimit);
    for (let i = 0; i < limit; i++) {
      const unit = batch.ready[i]!;
      if (unit.workers.has(worker.key)) continue;
      if (distinct && unit.addresses.has(worker.address)) continue;
      if (unit.want <= 1) dequeueAt(batch, i);
      return unit;
    }
    return undefined;
  }

  /** The feeder: loads the next chunk of pending units of a batch from the store. */
  #refill(batch: BatchRuntime): void {
    if (batch.exhausted || batch.hot.size >= this.#opts.maxHotPerBatch) return;
    // One query per chunk, inputs included: only units that already had tasks (after a restart,
    // or reopened) are rebuilt from their task rows. Two point queries per unit were a sixth of
    // the coordinator's CPU per task on the echo benchmark (BENCHMARKS.md).
    const rows = this.store.stmt(`SELECT w.id, w.seq, w.input, EXISTS (SELECT 1 FROM tasks t WHERE t.wu_id = w.id) AS started
      FROM work_units w WHERE w.batch_id = ? AND w.state = 'pending' AND w.id > ? ORDER BY w.id LIMIT ?`)
      .all(batch.id, batch.cursor, this.#opts.refillChunk) as { id: number; seq: number; input: Buffer; started: number }[];
    if (rows.length < this.#opts.refillChunk) batch.exhausted = true;
    for (const row of rows) {
      batch.cursor = row.id;
      if (batch.hot.has(row.id) || this.#decidedUncommitted.has(row.id)) continue;
      const unit = row.started
        ? hydrateUnit(this.store, row.id, batch.policy.quorum)
        : newUnit(row.id, batch.id, row.seq, row.input, 0, batch.policy.quorum);
      if (!unit) continue;
      if (unit.issued === 0) unit.want = batch.policy.replication;
      batch.hot.set(unit.id, unit);
      if (unit.issued > 0) this.#apply(batch, unit, judge(tallyOf(unit), this.#rules(batch, unit), batch.agree));
      else enqueue(batch, unit);
    }
  }

  #issue(batch: BatchRuntime, unit: HotUnit, worker: WorkerHandle): swarmgrid.ITask {
    const taskId = ++this.#nextTaskId;
    const now = Date.now();
    const leaseMs = Math.round(batch.policy.lease * 1000);
    let provisional = false;
    if (unit.issued === 0 && batch.policy.adaptive && this.reputation.consecutiveValid(worker.key) >= batch.policy.trustAfter
      && this.#random() >= batch.policy.spotCheck) {
      // Adaptive replication: a trusted worker's single copy stands alone unless spot-checked.
      provisional = true;
      unit.quorum = 1;
      unit.want = 1;
    }
    unit.want--;
    unit.issued++;
    unit.outstanding.add(taskId);
    unit.workers.add(worker.key);
    unit.addresses.add(worker.address);
    if (unit.want <= 0) removeFromReady(batch, unit);
    this.leases.add(taskId, unit.id, worker.key, now + leaseMs);
    this.stats.issued++;
    const row = { id: taskId, wuId: unit.id, worker: worker.key, address: worker.address, runtime: worker.runtime, provisional, issuedAt: now, deadline: now + leaseMs };
    this.store.defer(() => this.store.insertTask(row));
    this.#count(batch.id, 0, 1);
    return {
      taskId, batchId: batch.id, seq: unit.seq, kind: batch.kind.name, kindVersion: batch.kind.version,
      codeHash: batch.codeHash ?? new Uint8Array(0), input: unit.input, leaseMs,
      timeoutMs: Math.round(batch.policy.timeout * 1000), memoryMb: batch.policy.memoryMb,
    };
  }

  /**
   * Adds to a batch's validated / issued counters in this tick's transaction: one UPDATE per batch
   * per commit instead of two per task (they were 6% of the coordinator's time per task). Called
   * outside deferred writes, never from one, so that the sums land in the same commit.
   */
  #count(batchId: string, validated: number, issued: number): void {
    let acc = this.#counts;
    if (!acc) {
      const fresh = new Map<string, [number, number]>();
      acc = this.#counts = fresh;
      this.store.defer(() => {
        if (this.#counts === fresh) this.#counts = undefined;
        for (const [id, [v, i]] of fresh) this.store.bumpBatchCounts(id, v, 0, i);
      });
      // Queued after the store's flush: if that transaction failed before reaching the write
      // above, later counts must not pile up in a map nothing will write.
      setImmediate(() => {
        if (this.#counts === fresh) this.#counts = undefined;
      });
    }
    const c = acc.get(batchId);
    if (c) {
      c[0] += validated;
      c[1] += issued;
    } else acc.set(batchId, [validated, issued]);
  }

  #rules(batch: BatchRuntime, unit: HotUnit) {
    return { quorum: unit.quorum, maxTasks: batch.policy.maxTasks, maxErrors: batch.policy.maxErrors };
  }

  #unit(batchOrId: BatchRuntime | undefined, wuId: number): { batch: BatchRuntime; unit: HotUnit } | undefined {
    for (const batch of batchOrId ? [batchOrId] : this.batches.values()) {
      const hot = batch.hot.get(wuId);
      if (hot) return { batch, unit: hot };
    }
    // Not hot: a result or expiry for a unit the feeder has not reloaded since a restart.
    if (this.#decidedUncommitted.has(wuId)) return undefined;
    const row = this.store.getWorkUnit(wuId);
    const batch = row && this.batches.get(row.batch_id);
    if (!row || !batch || row.state !== 'pending') return undefined;
    const unit = hydrateUnit(this.store, wuId, batch.policy.quorum);
    if (!unit) return undefined;
    batch.hot.set(wuId, unit);
    return { batch, unit };
  }

  /**
   * Results from a worker. Each is committed with its consequences in this tick's transaction;
   * returns once queued: the caller acknowledges in `store.afterCommit`.
   */
  results(worker: WorkerHandle, outcomes: TaskOutcome[]): void {
    for (const outcome of outcomes) this.#result(worker, outcome);
    this.scheduleDispatch();
  }

  #result(worker: WorkerHandle, outcome: TaskOutcome): void {
    const lease = this.leases.get(outcome.taskId);
    let wuId: number;
    if (lease) {
      if (lease.worker !== worker.key) return; // not this worker's task: ignore, never a vote
      wuId = lease.wuId;
      this.leases.delete(outcome.taskId);
    } else {
      // A late result: only an expired task of an undecided unit still counts.
      const task = this.store.getTask(outcome.taskId);
      if (!task || task.worker !== worker.key || task.state !== 'expired') return;
      wuId = task.wu_id;
    }
    const found = this.#unit(undefined, wuId);
    this.stats.results++;
    if (!found || found.unit.done) {
      this.store.defer(() => this.store.setTaskState(outcome.taskId, 'cancelled'));
      return;
    }
    const { batch, unit } = found;
    if (unit.settled.has(outcome.taskId)) return; // a second copy of a result already counted
    unit.settled.add(outcome.taskId);
    unit.outstanding.delete(outcome.taskId);
    if (outcome.errorCode) {
      unit.errors++;
      this.stats.errors++;
      this.reputation.record(worker.key, 'error', outcome.cpuMs);
      this.store.defer(() => this.store.setTaskResult(outcome.taskId, 'error', null, null, outcome.errorCode!, outcome.cpuMs));
    } else {
      const output = outcome.output ?? new Uint8Array(0);
      const digest = digestOf(output);
      unit.votes.push({ taskId: outcome.taskId, worker: worker.key, digest, output });
      this.store.defer(() => this.store.setTaskResult(outcome.taskId, 'returned', output, Buffer.from(digest, 'hex'), null, outcome.cpuMs));
      // A single copy stands alone only while its worker is still trusted: one caught since
      // the task was issued gets its result checked like anyone else's.
      if (unit.quorum < batch.policy.quorum && this.reputation.consecutiveValid(worker.key) < batch.policy.trustAfter) {
        unit.quorum = batch.policy.quorum;
      }
    }
    this.#apply(batch, unit, judge(tallyOf(unit), this.#rules(batch, unit), batch.agree));
  }

  /** Acts on a verdict: decide the unit, or ask for more tasks. */
  #apply(batch: BatchRuntime, unit: HotUnit, verdict: Verdict): void {
    switch (verdict.type) {
      case 'wait':
        return;
      case 'issue':
        unit.want += verdict.count;
        enqueue(batch, unit);
        this.scheduleDispatch();
        return;
      case 'accept': {
        this.#decide(batch, unit, 'validated');
        for (const v of verdict.agreeing) this.reputation.record(v.worker, 'valid');
        for (const v of verdict.disagreeing) this.#caught(v.worker);
        this.store.defer(() => {
          this.store.finishWorkUnit(unit.id, 'validated', verdict.canonical.taskId, verdict.agreeing.length, null);
          for (const v of verdict.agreeing) this.store.setTaskState(v.taskId, 'valid');
          // Agreement with another identity confirms a single copy that was being re-checked.
          if (verdict.agreeing.length > 1) for (const v of verdict.agreeing) this.store.setTaskProvisional(v.taskId, false);
          for (const v of verdict.disagreeing) this.store.setTaskState(v.taskId, 'invalid');
        });
        this.#count(batch.id, 1, 0);
        batch.validated++;
        this.stats.validated++;
        break;
      }
      case 'fail':
        this.#decide(batch, unit, 'failed');
        this.store.defer(() => {
          this.store.finishWorkUnit(unit.id, 'failed', null, 0, verdict.reason);
          this.store.bumpBatchCounts(batch.id, 0, 1, 0);
        });
        batch.failed++;
        this.stats.failed++;
        break;
    }
    if (batch.state === 'running' && batch.validated + batch.failed >= batch.total) this.#events.onBatchDecided?.(batch);
  }

  /** Marks a unit decided, withdraws its outstanding tasks and forgets it. */
  #decide(batch: BatchRuntime, unit: HotUnit, _state: 'validated' | 'failed'): void {
    unit.done = true;
    // Until the decision is committed, the store would hand the unit back as pending to a
    // refill or a late result in this same tick: keep it out of reach till then.
    this.#decidedUncommitted.add(unit.id);
    this.store.afterCommit(() => this.#decidedUncommitted.delete(unit.id));
    removeFromReady(batch, unit);
    batch.hot.delete(unit.id);
    this.#withdraw([...unit.outstanding], 'work unit already decided');
    unit.outstanding.clear();
  }

  /** Cancels tasks at their workers and releases their leases. */
  #withdraw(taskIds: number[], reason: string): void {
    const byWorker = new Map<string, number[]>();
    for (const id of taskIds) {
      const lease = this.leases.get(id);
      if (!lease) continue;
      this.leases.delete(id);
      byWorker.set(lease.worker, [...(byWorker.get(lease.worker) ?? []), id]);
      this.store.defer(() => this.store.setTaskState(id, 'cancelled'));
    }
    for (const [key, ids] of byWorker) {
      for (const w of this.workers) if (w.key === key) this.store.afterCommit(() => w.sendCancel(ids, reason));
    }
  }

  /**
   * A worker returned a result that lost to a quorum. Besides the reputation hit, every single
   * copy it was trusted with in a running batch is checked again under the batch's full quorum:
   * adaptive replication must never let a worker that turned bad keep its unchecked results.
   * Its old vote stays (it may well be right) and is judged with the new ones.
   */
  #caught(workerKey: string): void {
    this.reputation.record(workerKey, 'invalid');
    const rows = this.store.stmt(`SELECT t.id, t.wu_id, w.batch_id FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE t.worker = ? AND t.provisional = 1 AND t.state = 'valid' AND w.state = 'validated'`).all(workerKey) as { id: number; wu_id: number; batch_id: string }[];
    for (const row of rows) {
      const batch = this.batches.get(row.batch_id);
      // Several verdicts against one worker can land in one tick, before the first reopening
      // is committed: reopen each unit once.
      if (!batch || batch.state !== 'running' || this.#reopening.has(row.wu_id)) continue;
      this.#reopening.add(row.wu_id);
      this.store.defer(() => {
        this.store.reopenWorkUnit(row.wu_id);
        this.store.bumpBatchCounts(batch.id, -1, 0, 0);
      });
      batch.validated--;
      this.store.afterCommit(() => {
        this.#reopening.delete(row.wu_id);
        this.#recheck(batch, row.wu_id);
      });
    }
  }

  /** Puts a reopened unit back in play with the batch's full quorum. */
  #recheck(batch: BatchRuntime, wuId: number): void {
    const unit = hydrateUnit(this.store, wuId, batch.policy.quorum);
    if (!unit || batch.hot.has(unit.id)) return;
    batch.hot.set(unit.id, unit);
    this.#apply(batch, unit, judge(tallyOf(unit), this.#rules(batch, unit), batch.agree));
  }

  /**
   * Before an adaptive batch closes: every accepted single copy whose worker has had no
   * quorum-checked valid result since is sent out again under the batch's full quorum (its own
   * vote stays and counts). Returns how many work units were reopened.
   */
  auditSingleCopies(batch: BatchRuntime): number {
    const rows = this.store.stmt(`SELECT t.wu_id FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE w.batch_id = ? AND w.state = 'validated' AND t.provisional = 1 AND t.state = 'valid'
      AND NOT EXISTS (SELECT 1 FROM tasks v WHERE v.worker = t.worker AND v.provisional = 0 AND v.state = 'valid' AND v.id > t.id)`)
      .all(batch.id) as { wu_id: number }[];
    if (rows.length === 0) return 0;
    this.store.transaction(() => {
      for (const row of rows) this.store.reopenWorkUnit(row.wu_id);
      this.store.bumpBatchCounts(batch.id, -rows.length, 0, 0);
    });
    batch.validated -= rows.length;
    for (const row of rows) this.#recheck(batch, row.wu_id);
    return rows.length;
  }

  #expire(taskId: number): void {
    const lease = this.leases.get(taskId);
    if (!lease) return;
    this.leases.delete(taskId);
    this.stats.expired++;
    this.reputation.record(lease.worker, 'timeout');
    this.store.defer(() => this.store.setTaskState(taskId, 'expired'));
    this.#release(lease.wuId, taskId);
  }

  /** A worker handed tasks back (Goodbye, Decline): re-issue them at once. */
  abandon(worker: WorkerHandle, taskIds: number[]): void {
    for (const id of taskIds) {
      const lease = this.leases.get(id);
      if (!lease || lease.worker !== worker.key) continue;
      this.leases.delete(id);
      this.stats.abandoned++;
      this.store.defer(() => this.store.setTaskState(id, 'abandoned'));
      // Handed back unrun: neither a vote nor an attempt. It must not use up the unit's maxTasks,
      // and the unit may go to this worker again (a lone volunteer that pauses would strand it).
      const found = this.#unit(undefined, lease.wuId);
      if (found && !found.unit.done) {
        found.unit.issued--;
        found.unit.workers.delete(worker.key);
        // An adaptive single copy handed back: the unit is fresh again, under the full quorum
        // until a trusted worker draws it anew.
        if (found.unit.issued === 0 && found.unit.votes.length === 0) found.unit.quorum = found.batch.policy.quorum;
      }
      this.#release(lease.wuId, id);
      // Still a re-issue: to the front of the ready list, though it no longer counts as started.
      if (found?.unit.queued) {
        removeFromReady(found.batch, found.unit);
        found.batch.ready.unshift(found.unit);
        found.unit.queued = true;
      }
    }
    this.scheduleDispatch();
  }

  #release(wuId: number, taskId: number): void {
    const found = this.#unit(undefined, wuId);
    if (!found || found.unit.done) return;
    found.unit.outstanding.delete(taskId);
    this.#apply(found.batch, found.unit, judge(tallyOf(found.unit), this.#rules(found.batch, found.unit), found.batch.agree));
  }

  /** Withdraws everything of a batch (cancel, or failed ingest). */
  dropBatch(batchId: string, reason: string): void {
    const batch = this.batches.get(batchId);
    if (!batch) return;
    // From the store, not the hot set: leases recovered after a restart may belong to cold units.
    // Flushed first, so that tasks issued in this very tick are found (and cancelled) too.
    this.store.flush();
    const ids = (this.store.stmt(`SELECT t.id FROM tasks t JOIN work_units w ON w.id = t.wu_id
      WHERE w.batch_id = ? AND t.state = 'leased'`).all(batchId) as { id: number }[]).map((r) => r.id);
    this.#withdraw(ids, reason);
    for (const unit of batch.hot.values()) unit.done = true;
    this.batches.delete(batchId);
  }

  close(): void {
    this.leases.close();
  }
}
