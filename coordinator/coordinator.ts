/**
 * A coordinator: joins its grid topic on Hyperswarm as a server, keeps batches in its SQLite
 * store, schedules tasks to the workers that connect, and serves the HTTP API.
 */
import { StreamChannel, toHex, type Channel } from '../proto/channel.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../proto/codec.js';
import { type DhtWatch, watchDht } from '../proto/dht-health.js';
import { type BootstrapNode, createSwarm, DEFAULT_GRID, gridTopic, isLoopback, type Swarm } from '../proto/discovery.js';
import { listenError } from '../proto/listen-errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../proto/payloads.js';
import { BatchManager } from './batches.js';
import { declinedKinds, recordDecline } from './declines.js';
import { verifyToken } from './http/auth.js';
import { buildHttp } from './http/server.js';
import { loadOrCreateKeyPair } from './identity.js';
import { IdentityClaims } from './identity-claims.js';
import { ProtoErrors } from '../proto/errors.js';
import { KindCatalog } from './kind-catalog.js';
import type { NetworkOptions } from './networks.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { Session } from './session.js';
import { type GridStore, SqliteStore } from './store/index.js';
import type { FastifyInstance } from 'fastify';

export const COORDINATOR_VERSION = '0.1.0';

/**
 * How long close() waits for the HTTP server and for the swarm to leave the DHT. Both only say
 * goodbye to peers (sockets are destroyed either way); on a loaded machine or a slow network the
 * swarm's unannounce alone took seconds. The store's flush is never cut short.
 */
const CLOSE_HTTP_MS = 300;
const CLOSE_SWARM_MS = 700;

/** Waits for `work` at most `ms`; its failure is ignored (a stop goes on regardless). */
async function within(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => {}), new Promise<void>((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}

export type Log = (event: string, fields: Record<string, unknown>) => void;

export interface CoordinatorOptions {
  dataDir: string;
  /** @defaultValue 'swarmgrid/public' */
  grid?: string;
  /** Private DHT; omitted = the public HyperDHT. */
  bootstrap?: BootstrapNode[];
  /** Address the DHT node binds to (see proto/discovery.ts for the default). */
  dhtHost?: string;
  /** HTTP port; omitted = no HTTP API. 0 = any free port. */
  httpPort?: number;
  /** @defaultValue '127.0.0.1' */
  httpHost?: string;
  /**
   * A private grid: reading endpoints need a token too, and so do volunteers, a token of any role
   * (browsers in the WebSocket URL, Hyperswarm workers in their Hello: `swarmgrid worker --join
   * KEY=TOKEN`). @defaultValue false
   */
  private?: boolean;
  /**
   * Web origins (`https://host[:port]`) besides the coordinator's own page whose pages may open
   * the volunteer WebSocket. @defaultValue none
   */
  allowOrigins?: string[];
  /** Hyperswarm connection cap. @defaultValue 10000 */
  maxPeers?: number;
  /** @defaultValue 8 MiB */
  maxFrameBytes?: number;
  /**
   * Largest input or output of one work unit, in bytes (proto/payloads.ts): bigger inputs are
   * refused at submission (413 GRID_ERR_PAYLOAD_TOO_LARGE), bigger outputs fail as
   * `output_too_large`; those that do not fit in a frame travel as blobs. @defaultValue 16 MiB
   */
  maxPayloadBytes?: number;
  /** JSON body limit in bytes. @defaultValue 16 MiB */
  bodyLimit?: number;
  /** Submissions per minute per token. @defaultValue 60 */
  rateLimit?: number;
  /**
   * A submission whose body sends nothing for this long is ended (GRID_ERR_UPLOAD_STALLED) and
   * its partial batch deleted, ms.
   * @defaultValue 30000
   */
  uploadIdleMs?: number;
  /**
   * Streaming reads (/results, /artifact) served at once; more are refused with
   * GRID_ERR_TOO_MANY_READERS (429).
   * @defaultValue 64
   */
  maxReaders?: number;
  durability?: 'normal' | 'full';
  /**
   * Who counts as independent and the quotas per network (coordinator/networks.ts). The default
   * keeps results of one IPv4 /24 or IPv6 /64 from ever forming a quorum; a local grid (all
   * volunteers the operator's own) passes `{ independence: 'identity' }`.
   */
  networks?: NetworkOptions;
  scheduler?: SchedulerOptions;
  log?: Log;
}

export class Coordinator {
  readonly store: GridStore;
  readonly scheduler: Scheduler;
  readonly batches: BatchManager;
  readonly catalog: KindCatalog;
  readonly sessions = new Set<Session>();
  readonly publicKey: string;
  readonly grid: string;
  #opts: CoordinatorOptions;
  #claims = new IdentityClaims();
  #keyPair: { publicKey: Buffer; secretKey: Buffer };
  #swarm?: Swarm;
  #http?: FastifyInstance;
  #httpUrl?: string;
  #dhtWatch?: DhtWatch;
  #closing?: Promise<void>;
  #log: Log;

  get #maxPayloadBytes(): number {
    return this.#opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  private constructor(opts: CoordinatorOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? (() => {});
    this.grid = opts.grid ?? DEFAULT_GRID;
    this.#keyPair = loadOrCreateKeyPair(opts.dataDir);
    this.publicKey = toHex(this.#keyPair.publicKey);
    this.store = new SqliteStore({ dataDir: opts.dataDir, lock: true, ...(opts.durability && { durability: opts.durability }) });
    // Fail-stop (except on disk faults, below): once a grouped transaction fails, memory is ahead of the store (votes counted,
    // leases released) and no partial rollback is trustworthy. Nothing of that group was
    // acknowledged; a restart rebuilds everything from the store and workers resend.
    this.store.onError = (err) => {
      this.#log('fatal', { error: `store transaction failed: ${err.message}`, action: 'exiting; restart on the same --data to recover' });
      process.stderr.write(`swarmgrid coordinator: store transaction failed, stopping: ${err.stack ?? err.message}\n`);
      process.exit(70);
    };
    // A full or failing disk is not fail-stop: the store holds the writes (and every
    // acknowledgement and assignment waiting on them) and commits them once the disk takes
    // writes again; meanwhile reads serve and submissions get 507 (store/grid-store.ts).
    this.store.onStorage = (fault, waiting) => {
      if (fault) this.#log('storage-fault', { code: (fault as { code?: string }).code, error: fault.message, held: waiting });
      else this.#log('storage-resumed', { committed: waiting });
    };
    this.store.onCallbackError = (err) => this.#log('callback-error', { error: err.message });
    this.catalog = new KindCatalog({ store: this.store, dataDir: opts.dataDir, log: this.#log });
    this.scheduler = new Scheduler(this.store, { ...opts.scheduler, ...(opts.networks && { networks: opts.networks }) });
    this.batches = new BatchManager(this.store, this.scheduler, this.catalog, this.#log, { maxPayloadBytes: this.#maxPayloadBytes });
  }

  static async start(opts: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(opts);
    try {
      await c.catalog.load(); // custom kinds first: running batches may need them
      c.batches.recover();
      await c.#startHttp();
      await c.#startSwarm();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  get httpUrl(): string | undefined {
    return this.#httpUrl;
  }

  get keyPair(): { publicKey: Buffer; secretKey: Buffer } {
    return this.#keyPair;
  }

  /** Serves one worker over any channel (Hyperswarm here, WebSocket for browsers). */
  accept(channel: Channel): Session {
    // A private coordinator admits Hyperswarm volunteers with a token only (the WebSocket route
    // checks browsers' tokens before a channel exists).
    const admit = this.#opts.private && channel.transport === 'hyperswarm'
      ? (token: string) => token !== '' && verifyToken(this.store, token) !== undefined
      : undefined;
    const session = new Session(channel, this.scheduler, {
      ...(admit && { admit }),
      coordinatorKey: this.#keyPair.publicKey,
      version: COORDINATOR_VERSION,
      maxFrameBytes: this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxPayloadBytes: this.#maxPayloadBytes,
      codeBundle: (hash) => this.catalog.bundle(hash),
      claims: {
        claims: this.#claims,
        evict: (key, instance) => {
          for (const s of this.sessions) if (s.key === key && s.instance === instance) s.channel.close(ProtoErrors.DUPLICATE_IDENTITY(key));
        },
      },
      declinedKinds: (worker, trusts) => declinedKinds(this.store, worker, trusts),
      onDecline: (worker, kind, reason) => {
        recordDecline(this.store, worker, kind, reason);
        this.#log('kind-declined', { worker, kind, reason });
      },
      log: this.#log,
    });
    this.sessions.add(session);
    channel.onClose((err) => {
      this.sessions.delete(session);
      if (err) this.#log('channel-error', { worker: channel.remoteKey, error: err.message, code: (err as { code?: string }).code });
    });
    return session;
  }

  async #startSwarm(): Promise<void> {
    this.#swarm = createSwarm({
      ...(this.#opts.bootstrap && { bootstrap: this.#opts.bootstrap }),
      ...(this.#opts.dhtHost && { host: this.#opts.dhtHost }),
      keyPair: this.#keyPair,
      maxPeers: this.#opts.maxPeers ?? 10_000,
      // On an all-loopback grid (tests, the demo) this node is reachable by definition.
      ...(this.#opts.bootstrap?.every((b) => isLoopback(b.host)) && { firewalled: false }),
    });
    await this.#swarm.bound;
    // A dead --bootstrap is said (with its code) before `coordinator-ready`, not left silent.
    const bootstrap = this.#opts.bootstrap?.map((b) => `${b.host}:${b.port}`).join(',');
    this.#dhtWatch = watchDht(this.#swarm.dht, {
      ...(bootstrap && { bootstrap }),
      onUnreachable: (err) => this.#log('dht-unreachable', { code: err.code, message: err.message }),
      onReachable: () => this.#log('dht-reachable', {}),
    });
    this.#swarm.swarm.on('connection', (conn) => {
      conn.on('error', () => {}); // surfaced through the channel's close
      const channel = StreamChannel.fromHyperswarm(conn, this.#opts.maxFrameBytes);
      // A worker that redials while its old stream is still half-open: the new one wins, so
      // credit and assignments never go to a connection nobody reads.
      for (const old of this.sessions) if (old.channel instanceof StreamChannel && old.key === channel.remoteKey) old.channel.close();
      this.accept(channel);
    });
    const discovery = this.#swarm.swarm.join(gridTopic(this.grid), { server: true, client: false });
    await discovery.flushed();
  }

  async #startHttp(): Promise<void> {
    if (this.#opts.httpPort === undefined) return;
    this.#http = await buildHttp({
      store: this.store,
      scheduler: this.scheduler,
      batches: this.batches,
      catalog: this.catalog,
      sessions: () => this.sessions,
      publicKey: this.publicKey,
      grid: this.grid,
      startedAt: Date.now(),
      private: this.#opts.private ?? false,
      bodyLimit: this.#opts.bodyLimit ?? 16 * 1024 * 1024,
      rateLimit: this.#opts.rateLimit ?? 60,
      uploadIdleMs: this.#opts.uploadIdleMs ?? 30_000,
      maxReaders: this.#opts.maxReaders ?? 64,
      volunteer: { accept: (channel) => this.accept(channel), maxFrameBytes: this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, allowOrigins: this.#opts.allowOrigins ?? [] },
    });
    const host = this.#opts.httpHost ?? '127.0.0.1';
    try {
      await this.#http.listen({ port: this.#opts.httpPort, host });
    } catch (err) {
      throw listenError(err, { what: 'HTTP', port: this.#opts.httpPort, host, portOption: '--http-port', hostOption: '--http-host' });
    }
    const addr = this.#http.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.#opts.httpPort;
    this.#httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /**
   * Stops accepting, closes sessions, flushes and closes the store. Idempotent. Waits on peers
   * are bounded (CLOSE_HTTP_MS, CLOSE_SWARM_MS), so that a stop takes well under 2 s; an upload
   * still streaming in is left `loading` and discarded at the next start (never acknowledged).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.batches.close();
      this.#dhtWatch?.stop();
      await within(this.#http?.close(), CLOSE_HTTP_MS);
      for (const s of this.sessions) s.channel.close();
      await within(this.#swarm?.destroy(), CLOSE_SWARM_MS);
      this.scheduler.close();
      this.store.close();
    })();
    return this.#closing;
  }
}
