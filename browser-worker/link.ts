/**
 * The browser volunteer's link to the coordinator that served the page: the volunteer protocol
 * core (proto/volunteer/core.ts) over the page's WebSocket. What is the browser's own: opening
 * the socket and reconnecting with backoff, the state and last error the page shows, WebCrypto,
 * and a result delay that lets results share a frame. Hello says it trusts no coordinator: the
 * page runs only its own bundle, and WASM kinds in their sandbox.
 */
import { Runtime, type swarmgrid } from '../proto/codec.js';
import { globalClock } from '../proto/volunteer/clock.js';
import { VolunteerCore, type VolunteerHost } from '../proto/volunteer/core.js';
import { nextTurn } from './next-turn.js';
import { BrowserSocketChannel, SocketClosedError } from './socket-channel.js';

export type { HeldTask } from '../proto/volunteer/core.js';

export interface LinkHost extends VolunteerHost {
  /** Tasks to hold (queued + running). */
  prefetch(): number;
}

export type LinkState = 'connecting' | 'connected' | 'offline' | 'closed';

export interface LinkOptions {
  /** ws(s)://host/v1/volunteer?id=… */
  url: string;
  /** Reconnect delays grow from this… @defaultValue 500 */
  minBackoffMs?: number;
  /** …to this. @defaultValue 30000 */
  maxBackoffMs?: number;
  /**
   * How long a finished task's result waits for others to share its Result frame, ms (0: the
   * next turn of the event loop). Every frame is a WebSocket message through Chromium's IPC and
   * network threads, and each Result is answered by an Ack and an Assign: per task of a few ms,
   * those messages cost about as much CPU as the task (issue 13). Prefetch covers the wait
   * (browser-worker/agent.ts). @defaultValue 20
   */
  resultDelayMs?: number;
}

/** SHA-256 by WebCrypto (asynchronous: the core queues a big result when its hash is ready). */
async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

export class VolunteerLink extends VolunteerCore {
  /** The coordinator's key, from Welcome. */
  coordinatorKey = '';
  /** The last error the coordinator or the socket reported, for the page. */
  lastError = '';
  /** When the next reconnect attempt is due (ms since epoch), while offline. */
  retryAt = 0;
  declare protected readonly host: LinkHost;
  #opts: Required<LinkOptions>;
  #state: LinkState = 'closed';
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: LinkHost, options: LinkOptions) {
    const opts = { minBackoffMs: 500, maxBackoffMs: 30_000, resultDelayMs: 20, ...options };
    // A dedicated worker's timers are not throttled when the page is hidden (agent-worker.ts).
    super(host, { runtime: Runtime.RUNTIME_BROWSER, clock: globalClock(nextTurn), digest: sha256, resultDelayMs: opts.resultDelayMs, pausedReason: 'paused by the volunteer' });
    this.#opts = opts;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Connects, and keeps reconnecting with backoff until `stop()`. */
  start(): void {
    if (this.#state !== 'closed') return;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    this.#state = 'connecting';
    let channel: BrowserSocketChannel;
    try {
      channel = await BrowserSocketChannel.open(this.#opts.url);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.#retry();
      return;
    }
    if (this.state === 'closed') {
      channel.close(); // stopped while connecting
      return;
    }
    this.attach(channel);
  }

  #retry(): void {
    if (this.#state === 'closed') return;
    // Exponential backoff with jitter, so a restarted coordinator is not hit by every tab at once.
    const base = Math.min(this.#opts.maxBackoffMs, this.#opts.minBackoffMs * 2 ** this.#attempt++);
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.retryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#state = 'offline';
  }

  protected prefetch(): number {
    return this.host.prefetch();
  }

  // No custom JavaScript: the page runs only its own bundle, and WASM kinds in their sandbox.
  protected override helloFields(): Partial<swarmgrid.IHello> {
    return { trustsCoordinator: false };
  }

  protected blobUnavailable(taskId: number): Error {
    return new Error(`GRID_ERR_BLOB_UNAVAILABLE: the coordinator no longer has the input of task ${taskId}`);
  }

  protected override onWelcome(welcome: swarmgrid.Welcome): void {
    this.#attempt = 0;
    this.lastError = '';
    this.coordinatorKey = [...welcome.coordinatorKey].map((b) => b.toString(16).padStart(2, '0')).join('');
    this.#state = 'connected';
  }

  protected override onLost(err?: Error): void {
    if (err) this.lastError = err instanceof SocketClosedError || !('code' in err) ? err.message : `${String(err.code)}: ${err.message}`;
    this.#retry();
  }

  protected override onCoordinatorError(error: swarmgrid.Error): void {
    this.lastError = `${error.code}: ${error.message}`;
  }

  /** The tab is going away: results out, everything held handed back (Goodbye), socket closed. */
  override goodbye(reason: string): number[] {
    const returned = super.goodbye(reason);
    this.stop();
    return returned;
  }

  /** Stops reconnecting and closes the socket. `start()` again to come back. */
  stop(): void {
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    this.close('the connection to the coordinator closed');
  }
}
