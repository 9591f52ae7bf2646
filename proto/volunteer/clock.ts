/**
 * The time source of the volunteer protocol core (core.ts): the core runs in Node (the worker)
 * and in a browser's dedicated Web Worker (the page's agent), whose timers and "next turn" differ,
 * and tests drive it with a clock of their own.
 */
export interface VolunteerClock {
  /** Monotonic milliseconds (`performance.now()`): a wall clock stepped back must not fool timeouts. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Runs `fn` on a later turn of the event loop, after pending I/O (Node: setImmediate). */
  nextTurn(fn: () => void): void;
}

/**
 * The global timers, with `nextTurn` given by the runtime. `unref`: Node timers that must not
 * keep the process alive (heartbeats, request timeouts) are unref'd; browsers have no unref.
 */
export function globalClock(nextTurn: (fn: () => void) => void, options: { unref?: boolean } = {}): VolunteerClock {
  const unref = <T>(handle: T): T => {
    if (options.unref) (handle as { unref?: () => void }).unref?.();
    return handle;
  };
  return {
    now: () => performance.now(),
    setTimeout: (fn, ms) => unref(setTimeout(fn, ms)),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    setInterval: (fn, ms) => unref(setInterval(fn, ms)),
    clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
    nextTurn,
  };
}
