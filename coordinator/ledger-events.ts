/**
 * The events of a batch's ledger (batch-ledger.ts), each with its arguments: subscribe with
 * `ledger.on('decided', (ledger) => …)`, typed by this interface (bullmq's QueueListener pattern).
 * Every event passes the ledger first, so that one listener can serve many batches. Listeners run
 * synchronously, inside the change that fires them: they must not throw, and anything slow or
 * that moves the batch again belongs in a setImmediate.
 */
import { EventEmitter } from 'node:events';
import type { BatchLedger } from './batch-ledger.js';
import type { HotUnit } from './hot-unit.js';
import type { BatchState, FinalBatchState } from './states.js';

export interface LedgerListener {
  /** A unit was decided (its writes are in this tick's transaction). Once per decision. */
  unitDecided: (ledger: BatchLedger, unit: HotUnit, outcome: 'validated' | 'failed') => void;
  /**
   * Every unit of a running batch is decided: after the last decision, or at `start` when all
   * already were. Again after reopened units are decided anew.
   */
  decided: (ledger: BatchLedger) => void;
  /** The batch moved, stored (states.ts). */
  stateChanged: (ledger: BatchLedger, to: BatchState, from: BatchState) => void;
  /** The batch reached a final state, stored; the last event of a ledger. */
  finished: (ledger: BatchLedger, state: FinalBatchState) => void;
}

/**
 * An EventEmitter whose events are LedgerListener's keys and whose listeners have its signatures
 * (bullmq's typed `on<U extends keyof QueueListener>` pattern).
 */
export class LedgerEmitter extends EventEmitter {
  override on<U extends keyof LedgerListener>(event: U, listener: LedgerListener[U]): this {
    return super.on(event, listener);
  }

  override once<U extends keyof LedgerListener>(event: U, listener: LedgerListener[U]): this {
    return super.once(event, listener);
  }

  override off<U extends keyof LedgerListener>(event: U, listener: LedgerListener[U]): this {
    return super.off(event, listener);
  }

  override emit<U extends keyof LedgerListener>(event: U, ...args: Parameters<LedgerListener[U]>): boolean {
    return super.emit(event, ...args);
  }
}
