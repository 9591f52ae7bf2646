/**
 * The scheduler: feeds ready tasks to workers against their credits, under leases, and turns
 * results into verdicts through the validator. The store is the truth; memory holds only the
 * hot units (loaded in chunks by the feeder) and the leases out at workers.
 *
 * Rules it enforces: no network (an address prefix, networks.ts) ever gets two tasks of one work
 * unit, nor one identity; a network holds no more tasks than its quota, and one it has not seen
 * validated yet holds them on probation; a task that throws is an error, not a vote;
 * CPU time reported is capped at the batch's lease; nothing is acknowledged to a worker before
 * it is committed. It only matches units to workers' credit: a batch's state, counters, hot units
 * and ready queue are its ledger's (batch-ledger.ts), verdicts are carried out by verdicts.ts, the
 * feeder's query is in feeder.ts.
 */
import type { BatchLedger } from './batch-ledger.js';
import { nextChunk } from './feeder.js';
import { taskInput } from './blobs.js';
import { digestOf, type HotUnit, hydrateUnit } from './hot-unit.js';
import { type Lease, Leases, monotonicNow } from './leases.js';
import { type NetworkOptions, Networks } from './networks.js';
import { Reputation } from './reputation.js';
import type { GridStore } from './store/index.js';
import { taskIdBase } from './task-ids.js';
import { Verdicts } from './verdicts.js';
import { bufferSize } from './work-buffer.js';
import type { WorkerHandle } from './worker-handle.js';
import type { swarmgrid } from '../proto/codec.js';

/**
 * Most units one network may have started and still see waiting for other networks' copies in a
 * batch's ready list before a pick gives up: bounds the scan per pick (and how far a lone
 * network runs ahead) while it waits for an independent volunteer.
 */
const OWN_COPIES_AHEAD = 4096;

export interface SchedulerOptions {
  /** Work units loaded from the store per refill. @defaultValue 1000 */
  refillChunk?: number;
  /** Most hot units per batch: bounds memory when some workers run far ahead. @defaultValue 20000 */
  maxHotPerBatch?: number;
  /** How far into the ready list to look for a unit this worker may take. @defaultValue 256 */
  scanLimit?: number;
  /** Lease sweep period in ms. @defaultValue 250 */
  sweepMs?: number;
  /** Work buffer: ms of a batch's tasks one connection may hold per thread (work-buffer.ts). @defaultValue 2000 */
  workBufferMs?: number;
  /** Who counts as independent, and per-network quotas (networks.ts). */
  networks?: NetworkOptions;
  /**
   * Probation: a task issued to a network with no validated result yet is taken back after
   * max(this, 10 × the batch's task time + the work buffer) ms (once that task time is known),
   * unless the network has proven itself meanwhile; never later than its lease. A network that
   * takes tasks and never answers loses them fast. Also how long a network that handed a unit
   * back waits before it may take that unit again. @defaultValue 10000
   */
  probationMs?: number;
  /** Random source for spot checks (tests pass a seeded one). */
  random?: () => number;
}

export interface TaskOutcome {
  taskId: number;
  output?: Uint8Array;
  errorCode?: string;
  cpuMs: number;
}

export class Scheduler {
  readonly store: GridStore;
  readonly reputation: Reputation;
  /** Ledgers of the batches being scheduled (loading, running, finishing), by id. */
  readonly #batches = new Map<string, BatchLedger>();
  readonly workers = new Set<WorkerHandle>();
  readonly leases: Leases;
  readonly networks: Networks;
  readonly stats = { issued: 0, results: 0, errors: 0, expired: 0, abandoned: 0, validated: 0, failed: 0 };
  #opts: Required<Omit<SchedulerOptions, 'random' | 'networks'>>;
  #networkOf = new WeakMap<WorkerHandle, string>();
  /** The network of a stored task's worker, as the current options see it. */
  #storedNetworkOf = (address: string, worker: string): string => this.networks.of(address, worker);
  #random: () => number;
  #nextTaskId: number;
  #dispatchScheduled = false;
  #rotation = 0;
  #verdicts: Verdicts;
  /** Metrics: a ledger's decisions counted (one listener for every batch, kept after dropBatch: a late re-check still counts). */
  #countDecided = (_batch: BatchLedger, _unit: HotUnit, outcome: 'validated' | 'failed'): void => {
    this.stats[outcome]++;
  };

  constructor(store: GridStore, options: SchedulerOptions = {}) {
    this.store = store;
    this.reputation = new Reputation(store);
    const { networks, random: _random, ...rest } = options;
    this.#opts = { refillChunk: 1000, maxHotPerBatch: 20_000, scanLimit: 256, sweepMs: 250, workBufferMs: 2000, probationMs: 10_000, ...rest };
    this.networks = new Networks(networks);
    this.#random = options.random ?? Math.random;
    this.#nextTaskId = taskIdBase(store.maxTaskId()); // never an id a restored store's lost copy issued
    this.leases = new Leases(this.#opts.sweepMs, (taskId) => this.#expire(taskId), (lease, now) => this.#overdue(lease, now));
    this.#verdicts = new Verdicts({
      store, reputation: this.reputation, networks: this.networks,
      withdraw: (taskIds, reason) => this.withdraw(taskIds, reason),
      ledger: (batchId) => this.#batches.get(batchId),
      wantsTasks: () => this.scheduleDispatch(),
    });
    // Leases outstanding when the coordinator stopped stay valid: their workers may come back.
    // Deadlines are kept in wall time in the store (the monotonic clock starts over with each
    // process): a recovered lease runs for what its stored deadline leaves, but never longer
    // than its whole lease (deadline - issued_at), so a wall clock stepped back across the
    // restart cannot stretch it; one whose deadline has passed expires at the first sweep.
    const wallNow = Date.now();
    const monoNow = monotonicNow();
    for (const t of store.leasedTasks()) {
      const left = Math.max(0, Math.min(t.deadline - wallNow, t.deadline - t.issued_at));
      this.leases.add(t.id, t.wu_id, t.batch_id, t.worker, this.networks.of(t.address, t.worker), monoNow + left);
    }
  }

  /** Ledgers of the batches being scheduled (loading, running, finishing), by id. */
  get batches(): ReadonlyMap<string, BatchLedger> {
    return this.#batches;
  }

  /** Schedules a batch's units, from its ledger, until `dropBatch`. */
  addBatch(batch: BatchLedger): void {
    this.#batches.set(batch.id, batch);
    batch.on('unitDecided', this.#countDecided);
    this.scheduleDispatch();
  }

  /** More units were ingested for a batch: the feeder may look past its cursor again. */
  unitsAdded(batchId: string): void {
    const batch = this.#batches.get(batchId);
    if (batch) batch.exhausted = false;
    this.scheduleDispatch();
  }

  /** The network a worker belongs to (networks.ts), fixed for the life of its session. */
  networkOf(worker: WorkerHandle): string {
    let network = this.#networkOf.get(worker);
    if (network === undefined) this.#networkOf.set(worker, (network = this.networks.of(worker.address, worker.key)));
    return network;
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
    const active = [...this.#batches.values()].filter((b) => b.state === 'running' || b.state === 'loading');
    if (active.length === 0) return;
    // Equal priorities take turns: rotate the starting batch on every call.
    const offset = this.#rotation++ % active.length;
    const order = [...active.slice(offset), ...active.slice(0, offset)].sort((a, b) => b.policy.priority - a.policy.priority);
    const network = this.networkOf(worker);
    const now = monotonicNow();
    // The network's quota binds all its sessions together: many sessions from one network
    // hold no more than one would.
    let networkRoom = this.networks.quota(network) - this.leases.heldIn(network);
    const tasks: swarmgrid.ITask[] = [];
    for (const batch of order) {
      if (networkRoom <= 0) break;
      if (!worker.canRun(batch.kind.name, batch.kind.version, batch.codeHash !== null, batch.kind.sandbox?.type === 'wasm')) continue;
      let room = bufferSize(batch, worker.threads, this.#opts.workBufferMs) - this.leases.heldBy(worker, batch.id);
      while (worker.credit > 0 && room > 0 && networkRoom > 0) {
        const unit = this.#pick(batch, worker, network, now);
        if (!unit) break;
        tasks.push(this.#issue(batch, unit, worker, network));
        worker.credit--;
        room--;
        networkRoom--;
      }
      if (worker.credit <= 0) break;
    }
    if (tasks.length > 0) this.store.afterCommit(() => worker.sendTasks(tasks));
  }

  /**
   * The first ready unit this worker may take. Units its network already holds a copy of wait
   * for other networks: they are passed over without counting toward `scanLimit` (up to
   * OWN_COPIES_AHEAD of them, a Set lookup each), and when the list runs out the feeder loads
   * more. So a lone network computes first copies of many units while a replicated batch waits
   * for an independent volunteer, instead of stalling behind its own copies; each unit still
   * gets at most one task per network.
   */
  #pick(batch: BatchLedger, worker: WorkerHandle, network: string, now: number): HotUnit | undefined {
    const ready = batch.ready; // the ledger's queue itself (refills add to it): read in place
    if (ready.length < this.#opts.refillChunk / 2) this.#refill(batch);
    let examined = 0;
    let own = 0;
    for (let i = 0; examined < this.#opts.scanLimit && own < OWN_COPIES_AHEAD; i++) {
      if (i >= ready.length) {
        // Everything loaded is this network's already or not for it: load the next chunk.
        const before = ready.length;
        this.#refill(batch);
        if (ready.length === before) return undefined;
      }
      const unit = ready[i]!;
      if (unit.networks.has(network)) {
        own++;
        continue;
      }
      examined++;
      if (unit.workers.has(worker.key)) continue;
      const returned = unit.returnedBy?.get(network);
      if (returned !== undefined && now - returned < this.#opts.probationMs) continue;
      if (unit.want <= 1) batch.dequeueAt(i);
      return unit;
    }
    return undefined;
  }

  /** The feeder: loads the next chunk of pending units of a batch from the store. */
  #refill(batch: BatchLedger): void {
    if (batch.exhausted || batch.hot.size >= this.#opts.maxHotPerBatch) return;
    for (const unit of nextChunk(this.store, batch, this.#opts.refillChunk, (id) => batch.isSettling(id), this.#storedNetworkOf)) {
      if (unit.issued === 0) unit.want = batch.policy.replication;
      batch.hold(unit);
      if (unit.issued > 0) this.#verdicts.judge(batch, unit);
      else batch.enqueue(unit);
    }
  }

  #issue(batch: BatchLedger, unit: HotUnit, worker: WorkerHandle, network: string): swarmgrid.ITask {
    const taskId = ++this.#nextTaskId;
    // Wall time for the stored row (shown, and converted on restart); monotonic for the lease.
    const now = Date.now();
    const mono = monotonicNow();
    const leaseMs = Math.round(batch.policy.lease * 1000);
    let provisional = false;
    if (unit.issued === 0 && batch.policy.adaptive && this.reputation.consecutiveValid(worker.key) >= batch.policy.trustAfter
      && this.#random() >= batch.policy.spotCheck) {
      // Adaptive replication: a trusted worker's single copy stands alone unless spot-checked.
      provisional = true;
      unit.provisionalTask = taskId;
      unit.quorum = 1;
      unit.want = 1;
    }
    unit.want--;
    unit.issued++;
    unit.outstanding.add(taskId);
    unit.workers.add(worker.key);
    unit.networks.add(network);
    if (unit.want <= 0) batch.removeFromReady(unit);
    this.leases.add(taskId, unit.id, batch.id, worker.key, network, mono + leaseMs, worker, this.networks.proven(network) ? undefined : mono);
    this.stats.issued++;
    const row = { id: taskId, wuId: unit.id, worker: worker.key, address: worker.address, runtime: worker.runtime, provisional, issuedAt: now, deadline: now + leaseMs };
    this.store.defer(() => this.store.insertTask(row));
    batch.taskIssued();
    return {
      taskId, batchId: batch.id, seq: unit.seq, kind: batch.kind.name, kindVersion: batch.kind.version,
      codeHash: batch.codeHash ?? new Uint8Array(0), input: unit.input, leaseMs,
      // A WASM kind's manifest sets a time limit for batches whose policy sets none.
      timeoutMs: Math.round(batch.policy.timeout * 1000) || (batch.kind.sandbox?.timeoutMs ?? 0), memoryMb: batch.policy.memoryMb,
      ...(batch.kind.sandbox?.type === 'wasm' && { wasm: true }),
    };
  }

  /**
   * Whether a lease has run out: its deadline passed, or it is on probation (issued to a network
   * not yet seen validated, which it still is not) for longer than the batch's tasks could take.
   */
  #overdue(lease: Lease, now: number): boolean {
    if (lease.due <= now) return true;
    if (lease.probationFrom === undefined || this.networks.proven(lease.network)) return false;
    const taskMs = this.#batches.get(lease.batchId)?.taskMs;
    if (taskMs === undefined) return false;
    return now - lease.probationFrom >= Math.max(this.#opts.probationMs, 10 * taskMs + this.#opts.workBufferMs);
  }

  #unit(batchOrId: BatchLedger | undefined, wuId: number): { batch: BatchLedger; unit: HotUnit } | undefined {
    for (const batch of batchOrId ? [batchOrId] : this.#batches.values()) {
      const hot = batch.hot.get(wuId);
      if (hot) return { batch, unit: hot };
    }
    // Not hot: a result or expiry for a unit the feeder has not reloaded since a restart (or one
    // decided in this tick, whose row still says pending).
    const row = this.store.getWorkUnit(wuId);
    const batch = row && this.#batches.get(row.batch_id);
    if (!row || !batch || row.state !== 'pending' || batch.isSettling(wuId)) return undefined;
    const unit = hydrateUnit(this.store, wuId, batch.policy.quorum, this.#storedNetworkOf);
    if (!unit) return undefined;
    batch.hold(unit);
    return { batch, unit };
  }

  /**
   * Results from a worker. Each is committed with its consequences in this tick's transaction;
   * `committed` (the worker's acknowledgement) runs once they are, never before.
   */
  results(worker: WorkerHandle, outcomes: TaskOutcome[], committed?: () => void): void {
    for (const outcome of outcomes) this.#result(worker, outcome);
    if (committed) this.store.afterCommit(committed);
    this.scheduleDispatch();
  }

  /**
   * The input of a task leased to `worker` (blobs.ts), or undefined (not its task, expired, or
   * unknown): from the hot unit when loaded, else from the store.
   */
  taskInput(worker: WorkerHandle, taskId: number): Uint8Array | undefined {
    return taskInput(this.store, this.leases, (batchId, wuId) => this.#batches.get(batchId)?.hot.get(wuId), worker, taskId);
  }

  #result(worker: WorkerHandle, outcome: TaskOutcome): void {
    const lease = this.leases.get(outcome.taskId);
    let wuId: number;
    // The vote belongs to the network the task was issued to, which the dispatch rule counted,
    // even if the worker has moved since.
    let network: string;
    if (lease) {
      if (lease.worker !== worker.key) return; // not this worker's task: ignore, never a vote
      wuId = lease.wuId;
      network = lease.network;
      this.leases.delete(outcome.taskId);
    } else {
      // A late result: only an expired task of an undecided unit still counts.
      const task = this.store.getTask(outcome.taskId);
      if (!task || task.worker !== worker.key || task.state !== 'expired') return;
      wuId = task.wu_id;
      network = this.networks.of(task.address, task.worker);
    }
    const found = this.#unit(undefined, wuId);
    this.stats.results++;
    if (!found || found.unit.done) {
      this.store.defer(() => this.store.setTaskState(outcome.taskId, 'cancelled'));
      return;
    }
    const { batch, unit } = found;
    if (unit.settled.has(outcome.taskId)) return; // a second copy of a result already counted
    // A task cannot have used more CPU than its lease allowed: a worker's figure is a claim.
    const cpuMs = Math.min(Math.max(0, Math.round(outcome.cpuMs) || 0), Math.round(batch.policy.lease * 1000));
    unit.settled.add(outcome.taskId);
    unit.outstanding.delete(outcome.taskId);
    if (outcome.errorCode) {
      // One network's errors count once toward maxErrors: the unit goes to another network
      // (the dispatch rule) before another error can count.
      unit.errorNetworks.add(network);
      this.stats.errors++;
      this.reputation.record(worker.key, 'error');
      this.networks.note(network, 'error');
      this.store.defer(() => this.store.setTaskResult(outcome.taskId, 'error', null, null, outcome.errorCode!, cpuMs));
    } else {
      const output = outcome.output ?? new Uint8Array(0);
      const digest = digestOf(output);
      unit.votes.push({ taskId: outcome.taskId, worker: worker.key, network, cpuMs, digest, output });
      this.store.defer(() => this.store.setTaskResult(outcome.taskId, 'returned', output, Buffer.from(digest, 'hex'), null, cpuMs));
      // A single copy stands alone only while its worker is still trusted: one caught since
      // the task was issued gets its result checked like anyone else's.
      if (unit.quorum < batch.policy.quorum && this.reputation.consecutiveValid(worker.key) < batch.policy.trustAfter) {
        unit.quorum = batch.policy.quorum;
      }
    }
    this.#verdicts.judge(batch, unit);
  }

  #expire(taskId: number): void {
    const lease = this.leases.get(taskId);
    if (!lease) return;
    this.leases.delete(taskId);
    // Its lease ran out (not just its probation): the task was lost with its worker, or hangs it.
    if (lease.due <= monotonicNow()) {
      const found = this.#unit(undefined, lease.wuId);
      if (found && !found.unit.done) found.unit.lostNetworks.add(lease.network);
    }
    this.stats.expired++;
    this.reputation.record(lease.worker, 'timeout');
    this.networks.note(lease.network, 'timeout');
    this.store.defer(() => this.store.setTaskState(taskId, 'expired'));
    this.#release(lease.wuId, taskId);
  }

  /**
   * A worker handed tasks back (Goodbye, Decline): re-issue them at once, to other networks
   * first (the returning network may take a unit again after `probationMs`).
   */
  abandon(worker: WorkerHandle, taskIds: number[]): void {
    const now = monotonicNow();
    for (const id of taskIds) {
      const lease = this.leases.get(id);
      if (!lease || lease.worker !== worker.key) continue;
      this.leases.delete(id);
      this.stats.abandoned++;
      this.store.defer(() => this.store.setTaskState(id, 'abandoned'));
      // Handed back unrun: neither a vote nor an attempt. It must not use up the unit's maxTasks,
      // and the unit may go to this worker again (a lone volunteer that pauses would strand it),
      // once other networks have had their chance.
      const found = this.#unit(undefined, lease.wuId);
      if (found && !found.unit.done) {
        found.unit.issued--;
        found.unit.workers.delete(worker.key);
        found.unit.networks.delete(lease.network);
        (found.unit.returnedBy ??= new Map()).set(lease.network, now);
        // An adaptive single copy handed back: the unit is fresh again, under the full quorum
        // until a trusted worker draws it anew.
        if (found.unit.issued === 0 && found.unit.votes.length === 0) found.unit.quorum = found.batch.policy.quorum;
      }
      this.#release(lease.wuId, id);
      // Still a re-issue: to the front of the ready list, though it no longer counts as started.
      if (found) found.batch.toFront(found.unit);
    }
    this.scheduleDispatch();
    // When the hold-off ends, the returning network may be the only one left to take them.
    if (taskIds.length > 0) setTimeout(() => this.scheduleDispatch(), this.#opts.probationMs + 10).unref();
  }

  #release(wuId: number, taskId: number): void {
    const found = this.#unit(undefined, wuId);
    if (!found || found.unit.done) return;
    found.unit.outstanding.delete(taskId);
    this.#verdicts.judge(found.batch, found.unit);
  }

  /** Cancels tasks at their workers and releases their leases. */
  withdraw(taskIds: number[], reason: string): void {
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

  /** Withdraws everything of a batch and stops scheduling it (cancel, failed ingest, finished). */
  dropBatch(batchId: string, reason: string): void {
    const batch = this.#batches.get(batchId);
    // From the store (also for a stalled batch, which has no runtime), not the hot set: leases recovered after a restart may belong to cold units.
    // Flushed first, so that tasks issued in this very tick are found (and cancelled) too.
    this.store.flush();
    const ids = this.store.leasedTaskIdsOf(batchId);
    this.withdraw(ids, reason);
    if (!batch) return;
    for (const unit of batch.hot.values()) unit.done = true;
    this.#batches.delete(batchId);
  }

  /** See Verdicts.auditSingleCopies: before an adaptive batch closes. */
  auditSingleCopies(batch: BatchLedger): number {
    return this.#verdicts.auditSingleCopies(batch);
  }

  close(): void {
    this.leases.close();
  }
}
