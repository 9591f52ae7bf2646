import { Coordinator } from '../../coordinator/coordinator.js';
import { normalizeOrigin } from '../../coordinator/http/origin.js';
import { type Command, intOption, untilSignal, usageError } from '../cli.js';
import { createLog } from '../log.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../proto/payloads.js';
import { swarmConfig, swarmOptions } from './common.js';

export const coordinator: Command = {
  name: 'coordinator',
  summary: 'run a coordinator: batches, scheduling, validation, HTTP API',
  usage: 'swarmgrid coordinator --data DIR [--grid NAME] [--bootstrap HOST:PORT] [--http-port PORT]',
  options: {
    data: { type: 'string', value: 'DIR', description: 'data directory (SQLite store, identity key); required' },
    ...swarmOptions,
    'http-port': { type: 'string', value: 'PORT', default: '8080', description: 'HTTP API port (0 = any free port)' },
    'http-host': { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'HTTP API address' },
    'no-http': { type: 'boolean', description: 'do not serve the HTTP API' },
    private: { type: 'boolean', description: 'a private grid: reading endpoints need a bearer token too, and volunteers a token of any role (browsers: ?token=, workers: --join KEY=TOKEN)' },
    'allow-origin': { type: 'string', multiple: true, value: 'ORIGIN', default: "the page's own, at an address or localhost", description: 'also let pages from this origin (https://host[:port]) open the volunteer WebSocket (repeatable or comma-separated); needed when the page is served under a DNS name rather than an address' },
    'local-grid': { type: 'boolean', description: 'every volunteer identity counts as independent, wherever it connects from: only for a grid whose volunteers are all yours (one machine, one lab). Default: results from one IPv4 /24 or IPv6 /64 never form a quorum' },
    'ipv4-prefix': { type: 'string', value: 'BITS', default: '24', description: 'IPv4 addresses sharing this prefix are one network' },
    'ipv6-prefix': { type: 'string', value: 'BITS', default: '64', description: 'IPv6 addresses sharing this prefix are one network' },
    'sessions-per-network': { type: 'string', value: 'N', default: '64', description: 'most volunteer connections one network may hold open' },
    'max-peers': { type: 'string', value: 'N', default: '10000', description: 'most Hyperswarm connections' },
    'max-payload-bytes': { type: 'string', value: 'N', default: '16777216', description: "largest input or output of one work unit in bytes: bigger inputs are refused (413), bigger outputs fail as 'output_too_large'" },
    'rate-limit': { type: 'string', value: 'N', default: '60', description: 'batch submissions per minute per token' },
    'upload-idle-timeout': { type: 'string', value: 'S', default: '30', description: 'end a submission whose body sends nothing for S seconds (its partial batch is deleted)' },
    'max-readers': { type: 'string', value: 'N', default: '64', description: 'result and artifact streams served at once (more get 429)' },
    durability: { type: 'string', value: 'normal|full', default: 'normal', description: "'full' fsyncs every grouped commit (survives power loss)" },
  },
  notes: [
    'Create tokens with: swarmgrid token create --data DIR [--role submitter|operator|volunteer]',
    'With --private, hand volunteers a join link: http(s)://HOST/?token=TOKEN (a volunteer-role token),',
    'and node volunteers: swarmgrid worker --join COORDINATOR_KEY=TOKEN.',
  ].join('\n'),
  async run(v) {
    if (!v.data) throw usageError('--data DIR is required');
    const durability = (v.durability as string | undefined) ?? 'normal';
    if (durability !== 'normal' && durability !== 'full') throw usageError("--durability must be 'normal' or 'full'");
    const allowOrigins = ((v['allow-origin'] as string[] | undefined) ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean).map((o) => {
      try {
        return normalizeOrigin(o);
      } catch (err) {
        throw usageError(`--allow-origin: ${(err as Error).message}`);
      }
    });
    const log = createLog({ json: !!v.json });
    const c = await Coordinator.start({
      dataDir: v.data as string,
      ...swarmConfig(v),
      ...(v['no-http'] ? {} : { httpPort: intOption(v['http-port'], 'http-port', 0, 65535) ?? 8080, httpHost: (v['http-host'] as string) ?? '127.0.0.1' }),
      private: !!v.private,
      allowOrigins,
      networks: {
        independence: v['local-grid'] ? 'identity' : 'network',
        ipv4Prefix: intOption(v['ipv4-prefix'], 'ipv4-prefix', 0, 32) ?? 24,
        ipv6Prefix: intOption(v['ipv6-prefix'], 'ipv6-prefix', 0, 128) ?? 64,
        maxSessions: intOption(v['sessions-per-network'], 'sessions-per-network', 1) ?? 64,
      },
      maxPeers: intOption(v['max-peers'], 'max-peers', 1) ?? 10_000,
      rateLimit: intOption(v['rate-limit'], 'rate-limit', 1) ?? 60,
      uploadIdleMs: (intOption(v['upload-idle-timeout'], 'upload-idle-timeout', 1, 86_400) ?? 30) * 1000,
      maxReaders: intOption(v['max-readers'], 'max-readers', 1) ?? 64,
      maxPayloadBytes: intOption(v['max-payload-bytes'], 'max-payload-bytes', 1024, 2 ** 31) ?? DEFAULT_MAX_PAYLOAD_BYTES,
      durability,
      log,
    });
    log('coordinator-ready', {
      key: c.publicKey, grid: c.grid, http: c.httpUrl,
      // Where volunteers and submitters go (as the demo says): the page, and the API's OpenAPI docs.
      ...(c.httpUrl && { volunteerPage: `${c.httpUrl}/${v.private ? '?token=VOLUNTEER_TOKEN' : ''}`, apiDocs: `${c.httpUrl}/docs` }),
      data: v.data, pid: process.pid, independence: v['local-grid'] ? 'identity (--local-grid)' : 'network',
    });
    const sig = await untilSignal();
    const stopping = performance.now();
    log('coordinator-stopping', { signal: sig });
    // A second signal stops at once: everything acknowledged is in the store already.
    void untilSignal().then(() => process.exit(130));
    await c.close();
    log('coordinator-stopped', { ms: Math.round(performance.now() - stopping) });
    // Handles a library may leave behind (the DHT's UDP sockets and timers after a bounded
    // destroy) must not hold the process: the store is closed, nothing is left to do.
    process.exit(0);
  },
};
