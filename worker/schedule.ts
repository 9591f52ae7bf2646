/**
 * Time-of-day schedules for a volunteer (`swarmgrid worker --schedule`), as BOINC's "compute only
 * between" preferences: work only inside one of the windows, in the machine's local time.
 *
 *   22:00-07:00                     every day, overnight (the window belongs to the day it starts)
 *   mon-fri 18:00-08:00             weekday evenings and nights
 *   sat-sun 00:00-24:00             whole weekend days
 *   mon-fri 12:00-13:00,sat 09:00-18:00   several windows, comma-separated (or --schedule repeated)
 */
import { WorkerErrors } from './errors.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface ScheduleWindow {
  /** Days (0 = Sunday … 6 = Saturday, local time) on which the window starts. */
  days: Set<number>;
  /** Minutes after local midnight: start inclusive, end exclusive; end ≤ start runs past midnight. */
  start: number;
  end: number;
}

export class Schedule {
  readonly windows: readonly ScheduleWindow[];
  readonly spec: string;

  constructor(windows: ScheduleWindow[], spec: string) {
    this.windows = windows;
    this.spec = spec;
  }

  /** Parses one or more specs (each may hold comma-separated windows); errors name the bad window. */
  static parse(specs: string | string[]): Schedule {
    const list = (Array.isArray(specs) ? specs : [specs]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) throw WorkerErrors.INVALID_OPTION('--schedule needs at least one window, e.g. 22:00-07:00');
    return new Schedule(list.map(parseWindow), list.join(','));
  }

  /** Whether `at` (local time) falls inside a window. */
  isOpen(at: Date): boolean {
    const day = at.getDay();
    const minute = at.getHours() * 60 + at.getMinutes();
    return this.windows.some((w) => {
      if (w.start < w.end) return w.days.has(day) && minute >= w.start && minute < w.end;
      // Past midnight: the evening part on its own day, the morning part on the next.
      return (w.days.has(day) && minute >= w.start) || (w.days.has((day + 6) % 7) && minute < w.end);
    });
  }
}

function parseWindow(text: string): ScheduleWindow {
  const bad = (why: string) => WorkerErrors.INVALID_OPTION(`--schedule "${text}": ${why}; expected [DAY[-DAY] ]HH:MM-HH:MM, e.g. "mon-fri 18:00-08:00" or "22:00-07:00"`);
  const m = /^(?:([a-z]+)(?:-([a-z]+))?\s+)?(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/i.exec(text);
  if (!m) throw bad('not a window');
  const dayOf = (name: string) => {
    const i = DAYS.indexOf(name.toLowerCase() as (typeof DAYS)[number]);
    if (i < 0) throw bad(`unknown day "${name}" (${DAYS.join(', ')})`);
    return i;
  };
  const days = new Set<number>();
  if (!m[1]) for (let d = 0; d < 7; d++) days.add(d);
  else {
    const first = dayOf(m[1]);
    const last = m[2] ? dayOf(m[2]) : first;
    // Ranges wrap round the week: fri-mon is Friday to Monday.
    for (let d = first; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === last) break;
    }
  }
  const minutes = (h: string, min: string, isEnd: boolean) => {
    const hh = Number(h);
    const mm = Number(min);
    if (mm > 59 || hh > 24 || (hh === 24 && (mm !== 0 || !isEnd))) throw bad(`${h}:${min} is not a time of day`);
    return hh * 60 + mm;
  };
  const start = minutes(m[3]!, m[4]!, false);
  const end = minutes(m[5]!, m[6]!, true);
  if (start === end) throw bad('the window is empty (for all day use 00:00-24:00)');
  return { days, start, end };
}
