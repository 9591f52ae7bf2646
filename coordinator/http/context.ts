import type { Channel } from '../../proto/channel.js';
import type { BatchManager } from '../batches.js';
import type { KindCatalog } from '../kind-catalog.js';
import type { Scheduler } from '../scheduler.js';
import type { Session } from '../session.js';
import type { GridStore } from '../store/index.js';

/** What the HTTP routes reach into. */
export interface HttpContext {
  store: GridStore;
  scheduler: Scheduler;
  batches: BatchManager;
  catalog: KindCatalog;
  sessions: () => Iterable<Session>;
  publicKey: string;
  grid: string;
  startedAt: number;
  /** Reading endpoints need a token too, and the volunteer WebSocket one of any role. */
  private: boolean;
  /** Max JSON body, bytes. */
  bodyLimit: number;
  /** Submissions per minute per token (burst = the same number). */
  rateLimit: number;
  /** A submission body idle this long is ended with GRID_ERR_UPLOAD_STALLED, ms. */
  uploadIdleMs: number;
  /** Streaming reads (results, artifacts) served at once; more get GRID_ERR_TOO_MANY_READERS. */
  maxReaders: number;
  /** The browser volunteer page and its WebSocket; omitted = not served. */
  volunteer?: {
    /** The coordinator's shared session logic (`Coordinator.accept`): the session, which can `leave`. */
    accept: (channel: Channel) => { leave(returnedTaskIds: readonly number[], reason: string): void };
    /** WebSocket messages above this size are refused before they are buffered. */
    maxFrameBytes: number;
    /**
     * Web origins besides the page's own whose pages may open the WebSocket (`https://host[:port]`).
     * @defaultValue none
     */
    allowOrigins?: readonly string[];
  };
}
