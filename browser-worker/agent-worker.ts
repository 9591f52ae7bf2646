/**
 * The volunteer's agent (the protocol link and the pool of task workers) runs in this dedicated
 * worker, not on the page. A volunteer leaves the tab behind others for hours, and browsers
 * throttle the timers of hidden pages: Chrome runs them at most once a second at once and, after
 * five minutes hidden, once a minute (intensive wake-up throttling). Reconnect backoff,
 * heartbeats, task time limits and result flushing would stretch with them. A dedicated worker's
 * timers are not throttled, so everything the protocol needs runs here; the page only renders
 * snapshots and forwards the volunteer's controls (browser-worker/main.ts).
 */
import * as Comlink from 'comlink';
import { type AgentOptions, type AgentSnapshot, BrowserAgent } from './agent.js';

let agent: BrowserAgent | undefined;

const api = {
  /** Starts the agent once; later calls are ignored (the page calls it once at load). */
  start(options: AgentOptions): void {
    if (agent) return;
    agent = new BrowserAgent(options);
    agent.start();
  },
  /** What the page shows; null before `start`. */
  snapshot(): AgentSnapshot | null {
    return agent?.snapshot() ?? null;
  },
  pause(): void {
    agent?.pause();
  },
  resume(): void {
    agent?.resume();
  },
  setThreads(threads: number): void {
    agent?.setThreads(threads);
  },
  /** The page is going away: Goodbye hands every held task back. */
  leave(reason: string): void {
    agent?.leave(reason);
  },
};

export type AgentWorkerApi = typeof api;

// A dedicated worker hears only the page that created it, and such messages carry an empty
// origin: accept exactly those rather than Comlink's default of any origin.
Comlink.expose(api, self as unknown as Comlink.Endpoint, ['']);
