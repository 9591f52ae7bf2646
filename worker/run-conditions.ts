/**
 * When a volunteer may compute besides "only when idle": inside its time-of-day schedule
 * (schedule.ts) and not on battery (power.ts). Checked every second against the wall clock, so a
 * clock step (NTP, daylight saving, a laptop waking up) is followed at once; each condition
 * reports when it starts or stops holding the worker back, with the reason.
 */
import { powerSource, type PowerSource } from './power.js';
import type { Schedule } from './schedule.js';

export type Condition = 'schedule' | 'battery';

export interface RunConditionsOptions {
  schedule?: Schedule;
  /** Pause while on battery; `dir` replaces /sys/class/power_supply (a test hook). */
  notOnBattery?: { dir?: string };
  /** Called when a condition starts holding (reason) or stops (null). */
  onChange: (condition: Condition, reason: string | null) => void;
  /** @defaultValue 1000 */
  checkMs?: number;
  now?: () => Date;
}

export class RunConditions {
  #opts: RunConditionsOptions;
  #held = new Map<Condition, string>();
  #timer?: NodeJS.Timeout;

  constructor(options: RunConditionsOptions) {
    this.#opts = options;
  }

  /** The power source as last read ('unknown' where the OS does not tell). */
  power: PowerSource | undefined;

  /** Checks now, then every checkMs. */
  start(): void {
    if (this.#timer) return;
    this.check();
    this.#timer = setInterval(() => this.check(), this.#opts.checkMs ?? 1000);
    this.#timer.unref();
  }

  check(): void {
    const { schedule, notOnBattery } = this.#opts;
    if (schedule) {
      const now = (this.#opts.now ?? (() => new Date()))();
      this.#set('schedule', schedule.isOpen(now) ? null : `outside the schedule ${schedule.spec}`);
    }
    if (notOnBattery) {
      this.power = powerSource(notOnBattery.dir);
      this.#set('battery', this.power === 'battery' ? 'on battery' : null);
    }
  }

  #set(condition: Condition, reason: string | null): void {
    if ((this.#held.get(condition) ?? null) === reason) return;
    if (reason) this.#held.set(condition, reason);
    else this.#held.delete(condition);
    this.#opts.onChange(condition, reason);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
