/**
 * How busy the volunteer's machine is with things other than the grid: the share of all CPU time
 * spent outside this process since the previous sample (0 … 1 of all cores).
 *
 * The machine's busy time comes from the OS counters (/proc/stat on Linux, os.cpus() elsewhere);
 * this process's own time (its protocol thread and every task thread) from process.cpuUsage(),
 * and is subtracted: the grid's own work must never make the machine look "in use", or an
 * idle-only volunteer would pause itself as soon as it started working.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Cumulative CPU counters of the whole machine, in milliseconds. */
export interface CpuTimes {
  busyMs: number;
  totalMs: number;
}

/** The kernel's USER_HZ: /proc/stat counts in 1/100 s on every Linux configuration Node runs on. */
const TICK_MS = 10;

/** Parses the aggregate `cpu` line of /proc/stat. Exported for tests. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already
  // included in user and nice, so only the first eight fields make up the total.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  return { busyMs: (total - idle) * TICK_MS, totalMs: total * TICK_MS };
}

export function machineCpuTimes(): CpuTimes {
  try {
    const parsed = parseProcStat(readFileSync('/proc/stat', 'utf8'));
    if (parsed) return parsed;
  } catch {
    // Not Linux: fall through to the portable counters.
  }
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq;
    busy += t;
    total += t + c.times.idle;
  }
  return { busyMs: busy, totalMs: total };
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Samples the non-grid load between successive calls. */
export class HostLoad {
  #last: CpuTimes;
  #lastOwn: number;
  #read: () => CpuTimes;
  #own: () => number;

  constructor(options: { read?: () => CpuTimes; own?: () => number } = {}) {
    this.#read = options.read ?? machineCpuTimes;
    this.#own = options.own ?? ownCpuMs;
    this.#last = this.#read();
    this.#lastOwn = this.#own();
  }

  /**
   * Non-grid load since the previous sample, 0 … 1. Returns undefined when no time has passed
   * on the counters yet (they tick in 10 ms steps).
   */
  sample(): number | undefined {
    const now = this.#read();
    const own = this.#own();
    const total = now.totalMs - this.#last.totalMs;
    const busy = now.busyMs - this.#last.busyMs;
    const mine = own - this.#lastOwn;
    if (total <= 0) return undefined;
    this.#last = now;
    this.#lastOwn = own;
    // The two counters are read a moment apart and tick at different resolutions: clamp.
    return Math.min(1, Math.max(0, (busy - mine) / total));
  }
}
