/**
 * "Only when idle", as BOINC does it: the machine counts as idle once the non-grid CPU load has
 * stayed below a threshold for a while, and as busy the moment one sample goes above it. Leaving
 * is quick and coming back is slow on purpose: the owner's programs must never wait for the grid,
 * and a machine that is only briefly quiet between two bursts of the owner's work is not idle.
 */
import { HostLoad } from './host-load.js';
import { WorkerErrors } from './errors.js';

export type HostState = 'idle' | 'busy';

export interface IdleMonitorOptions {
  /** Highest non-grid load (0 … 1 of all cores) that still counts as idle. @defaultValue 0.25 */
  maxLoad?: number;
  /** How long the load must stay below `maxLoad` before the machine counts as idle. @defaultValue 60000 */
  idleAfterMs?: number;
  /** Sampling period. @defaultValue 1000 (or idleAfterMs / 2 when that is shorter, at least 100) */
  sampleMs?: number;
  /** Called on every change of state, with the load of the sample that caused it. */
  onChange: (state: HostState, load: number) => void;
  /** Injected load source (tests). */
  load?: { sample(): number | undefined };
  now?: () => number;
}

export class IdleMonitor {
  #opts: Required<Omit<IdleMonitorOptions, 'load' | 'now'>>;
  #load: { sample(): number | undefined };
  #now: () => number;
  #state: HostState = 'busy';
  /** When the load was last seen above the threshold (start counts: idleness must be observed). */
  #lastBusyAt: number;
  #timer?: NodeJS.Timeout;
  lastLoad = 0;

  constructor(options: IdleMonitorOptions) {
    const maxLoad = options.maxLoad ?? 0.25;
    const idleAfterMs = options.idleAfterMs ?? 60_000;
    if (!(maxLoad > 0 && maxLoad <= 1)) throw WorkerErrors.INVALID_OPTION('options.maxLoad must be in (0, 1]');
    if (!(idleAfterMs >= 0)) throw WorkerErrors.INVALID_OPTION('options.idleAfterMs must be a non-negative number');
    this.#opts = {
      maxLoad,
      idleAfterMs,
      sampleMs: options.sampleMs ?? Math.max(100, Math.min(1000, idleAfterMs / 2)),
      onChange: options.onChange,
    };
    this.#load = options.load ?? new HostLoad();
    this.#now = options.now ?? Date.now;
    this.#lastBusyAt = this.#now();
  }

  get state(): HostState {
    return this.#state;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.#opts.sampleMs);
    this.#timer.unref();
  }

  /** One sample (the timer calls this; tests call it directly). */
  tick(): void {
    const load = this.#load.sample();
    if (load === undefined) return;
    this.lastLoad = load;
    const now = this.#now();
    if (load > this.#opts.maxLoad) {
      this.#lastBusyAt = now;
      this.#set('busy', load);
    } else if (now - this.#lastBusyAt >= this.#opts.idleAfterMs) {
      this.#set('idle', load);
    }
  }

  #set(state: HostState, load: number): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#opts.onChange(state, load);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
