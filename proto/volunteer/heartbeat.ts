/**
 * The volunteer core's heartbeat (core.ts): a Heartbeat each period, answered by the
 * coordinator; one still unanswered a period later means a coordinator killed outright (kill -9,
 * power cut) or a half-open connection (laptop slept, network changed), which the transport
 * notices only after 13-17 s or never: the channel is dropped and the adapter redials. Judged per
 * tick, not by elapsed time, because a hidden tab may run intervals late. Heartbeats also keep
 * proxies from idling a WebSocket out.
 */
import type { Channel } from '../channel.js';
import type { VolunteerClock } from './clock.js';

/**
 * Heartbeat period when a Welcome names none, ms: the period every coordinator of this protocol
 * sends (coordinator/session.ts `HEARTBEAT_MS`, which is this constant). A killed coordinator is
 * then noticed within two periods, 6 s, well before the transport's own 13-17 s. (The browser
 * page assumed 15 s until both volunteers shared this core.)
 */
export const DEFAULT_HEARTBEAT_MS = 3000;

export class Heartbeat {
  #clock: VolunteerClock;
  #timer: unknown;
  #pingSentAt = 0;
  #lastHeard = 0;

  constructor(clock: VolunteerClock) {
    this.#clock = clock;
  }

  /** A frame arrived from the coordinator. */
  heard(): void {
    this.#lastHeard = this.#clock.now();
  }

  /** Starts beating on `channel` (after Welcome), replacing any previous beat. */
  start(channel: Channel, periodMs: number): void {
    this.stop();
    this.#pingSentAt = 0;
    const timer = this.#clock.setInterval(() => {
      if (channel.closed) {
        this.#clock.clearInterval(timer);
        return;
      }
      if (this.#pingSentAt > 0 && this.#lastHeard < this.#pingSentAt) {
        channel.close(new Error('coordinator stopped answering heartbeats'));
        return;
      }
      // Monotonic, like `heard`: a wall clock stepped back must not make an answered heartbeat
      // look unanswered. The frame carries wall time, for people reading it.
      this.#pingSentAt = this.#clock.now();
      channel.send({ heartbeat: { timeMs: Date.now() } });
    }, periodMs);
    this.#timer = timer;
  }

  stop(): void {
    this.#clock.clearInterval(this.#timer);
  }
}
