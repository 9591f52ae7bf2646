import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateKeyPair } from '../../coordinator/identity.js';
import { GridError } from '../../proto/errors.js';
import { WorkerAgent } from '../../worker/agent.js';
import { defaultMaxMemoryMb } from '../../worker/memory-ceiling.js';
import { POWER_SUPPLY_DIR, powerSource } from '../../worker/power.js';
import { Schedule } from '../../worker/schedule.js';
import { type Command, intOption, untilSignal, usageError } from '../cli.js';
import { createLog } from '../log.js';
import { defaultThreads, swarmConfig, swarmOptions } from './common.js';
import { startStatusLine } from './status-line.js';

const KEY = /^[0-9a-f]{64}$/;
/** Exit status when a coordinator refused this worker's identity as in use elsewhere (EX_CONFIG). */
const EXIT_DUPLICATE_IDENTITY = 78;

function keys(values: unknown, name: string): Set<string> {
  const list = (values as string[] | undefined) ?? [];
  for (const k of list) if (!KEY.test(k)) throw usageError(`--${name} takes a coordinator public key (64 hex characters), got "${k}"`);
  return new Set(list);
}

function numberOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw usageError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

/** --threads N, or --cpus PCT of the cores; by default all cores but one, at least 1. */
function threadsFrom(v: Record<string, unknown>): number {
  if (v.threads !== undefined && v.cpus !== undefined) throw usageError('give --threads or --cpus, not both');
  const pct = numberOption(v.cpus, 'cpus', 1, 100);
  if (pct !== undefined) return Math.max(1, Math.round((availableParallelism() * pct) / 100));
  return intOption(v.threads, 'threads', 1, 1024) ?? defaultThreads();
}

export const worker: Command = {
  name: 'worker',
  summary: 'donate CPU: run tasks for the coordinators of a grid',
  usage: 'swarmgrid worker [--grid NAME] [--bootstrap HOST:PORT] [--threads N | --cpus PCT] [--idle-only]',
  options: {
    ...swarmOptions,
    json: { ...swarmOptions.json!, default: 'on when stdout is not a terminal' },
    threads: { type: 'string', value: 'N', default: 'all cores but one, at least 1', description: 'worker threads' },
    cpus: { type: 'string', value: 'PCT', default: 'unset: --threads applies', description: 'instead of --threads: this percentage of the cores, at least 1' },
    'max-memory': { type: 'string', value: 'MB', default: '50% of the RAM, or of the memory cgroup\'s limit when lower', description: 'ceiling on the worker\'s memory; tasks running when it is crossed fail as out_of_memory' },
    'idle-only': { type: 'boolean', default: 'off', description: 'take tasks only while the machine is otherwise idle' },
    'max-host-load': { type: 'string', value: 'PCT', default: '25', description: 'with --idle-only: CPU use by other programs (% of all cores) above which the worker pauses' },
    'idle-after': { type: 'string', value: 'SECONDS', default: '60', description: 'with --idle-only: how long that load must stay below the limit before work resumes' },
    schedule: { type: 'string', multiple: true, value: 'WINDOWS', default: 'always', description: 'compute only inside these local-time windows, [DAY[-DAY] ]HH:MM-HH:MM, comma-separated or repeated (e.g. 22:00-07:00, "mon-fri 18:00-08:00,sat-sun 00:00-24:00"); outside, queued tasks are handed back as when busy' },
    'not-on-battery': { type: 'boolean', default: 'off', description: 'pause while the machine runs on battery (Linux: /sys/class/power_supply; elsewhere it cannot tell and runs on)' },
    'coordinator-timeout': { type: 'string', value: 'SECONDS', default: '30', description: 'warn (GRID_ERR_NO_COORDINATOR) when no coordinator is found this long after the start; 0 = never. It keeps looking' },
    data: { type: 'string', value: 'DIR', default: 'none: a new identity and an empty code cache every run', description: "keeps this volunteer's identity key (its reputation) and its code cache" },
    share: { type: 'string', multiple: true, value: 'KEY=WEIGHT', default: 'equal', description: "weight of a coordinator's share of the threads (repeatable)" },
    coordinator: { type: 'string', multiple: true, value: 'KEY', default: 'any on the grid', description: 'serve only this coordinator (repeatable)' },
    trust: { type: 'string', multiple: true, value: 'KEY', default: 'none', description: 'run custom job-kind code from this coordinator (repeatable)' },
    'no-wasm': { type: 'boolean', default: 'off: WASM kinds run', description: 'decline WASM job kinds too (they run sandboxed, without --trust, unless this is given)' },
    join: { type: 'string', multiple: true, value: 'KEY=TOKEN', default: 'none', description: "a private coordinator's join token (its operator gives it), sent to that coordinator only (repeatable)" },
  },
  notes: [
    'Built-in job kinds run for every coordinator. Custom kinds are code: they run with your user\'s',
    'rights, so only for coordinators you --trust; others are told no, and stop offering them.',
    'WASM kinds run in a sandbox (no files, network, clock or host calls: docs/SECURITY.md), so they run',
    'for every coordinator unless --no-wasm.',
    'Tasks run at the lowest OS priority. Ctrl-C hands unfinished tasks back and exits (twice: at once).',
  ].join('\n'),
  async run(v) {
    const threads = threadsFrom(v);
    const shares = new Map<string, number>();
    for (const s of (v.share as string[] | undefined) ?? []) {
      const m = /^([0-9a-f]{64})=(\d+(?:\.\d+)?)$/.exec(s);
      if (!m || !(Number(m[2]) > 0)) throw usageError(`--share takes KEY=WEIGHT with a positive weight, got "${s}"`);
      shares.set(m[1]!, Number(m[2]));
    }
    const joinTokens = new Map<string, string>();
    for (const s of (v.join as string[] | undefined) ?? []) {
      const m = /^([0-9a-f]{64})=(\S+)$/.exec(s);
      // Never echo the token: it is a secret, and a mistyped value is mostly token.
      if (!m) throw usageError(`--join takes KEY=TOKEN, KEY the coordinator's 64-hex key; got something else (${s.length} characters, not shown)`);
      joinTokens.set(m[1]!, m[2]!);
    }
    const maxLoad = numberOption(v['max-host-load'], 'max-host-load', 1, 100) ?? 25;
    const idleAfter = numberOption(v['idle-after'], 'idle-after', 0, 86_400) ?? 60;
    // Without --idle-only they would do nothing, and the volunteer would believe the machine spared.
    const idleOnlyOpts = ['idle-after', 'max-host-load'].filter((o) => v[o] !== undefined);
    if (!v['idle-only'] && idleOnlyOpts.length > 0) throw usageError(`${idleOnlyOpts.map((o) => `--${o}`).join(' and ')} ${idleOnlyOpts.length > 1 ? 'apply' : 'applies'} only with --idle-only: add --idle-only (take tasks only while the machine is otherwise idle)`);
    const maxMemoryMb = intOption(v['max-memory'], 'max-memory', 64) ?? defaultMaxMemoryMb();
    const schedule = v.schedule ? Schedule.parse(v.schedule as string[]) : undefined;
    // Test hook (docs/WORKER.md): a fake power-supply directory instead of /sys/class/power_supply.
    const powerDir = process.env.SWARMGRID_POWER_SUPPLY_DIR ?? POWER_SUPPLY_DIR;
    if (v['not-on-battery'] && powerSource(powerDir) === 'unknown') {
      process.stderr.write(`swarmgrid worker: --not-on-battery: this system does not say whether it runs on battery (no ${powerDir}); the worker runs on either\n`);
    }
    const json = !!v.json || !process.stdout.isTTY;
    const log = createLog({ json });
    const data = v.data as string | undefined;
    // Another live process has this identity (a copied --data): running on would only knock it off.
    let identityInUse!: (err: GridError) => void;
    const refused = new Promise<GridError>((resolve) => { identityInUse = resolve; });
    const agent = new WorkerAgent({
      onIdentityInUse: (err) => identityInUse(err),
      ...swarmConfig(v),
      threads,
      maxMemoryMb,
      shares,
      only: keys(v.coordinator, 'coordinator'),
      trust: keys(v.trust, 'trust'),
      wasm: !v['no-wasm'],
      joinTokens,
      ...(data ? { keyPair: loadOrCreateKeyPair(data, 'worker-identity.json'), codeCacheDir: join(data, 'code-cache') } : {}),
      ...(schedule && { schedule }),
      ...(v['not-on-battery'] ? { notOnBattery: { dir: powerDir } } : {}),
      ...(v['idle-only'] ? { idle: { maxLoad: maxLoad / 100, idleAfterMs: idleAfter * 1000 } } : {}),
      coordinatorTimeoutMs: (numberOption(v['coordinator-timeout'], 'coordinator-timeout', 0, 86_400) ?? 30) * 1000,
      // In JSON mode the warning is its log event; on a terminal, a line of its own above the status line.
      onWarning: (err) => { if (!json) process.stderr.write(`\r\x1b[2Kswarmgrid worker: ${err.code}: ${err.message}\n`); },
      log: json ? log : () => {},
    });
    await agent.start();
    // The banner first: the status line then redraws the line below it, never glued to it.
    if (!json) process.stdout.write(`swarmgrid worker ${agent.publicKey} with ${threads} thread(s)${v['idle-only'] ? ', only while idle' : ''}\n`);
    const stopStatus = json ? () => {} : startStatusLine(agent);
    const stop = await Promise.race([untilSignal(), refused]);
    stopStatus();
    if (stop instanceof GridError) {
      process.stderr.write(`swarmgrid worker: ${stop.code}: ${stop.message}${data ? ` (--data ${data})` : ''}\n`);
      log('worker-stopping', { code: stop.code, reason: stop.message });
    } else log('worker-stopping', { signal: stop });
    await agent.close();
    log('worker-stopped', { tasksDone: agent.stats.tasksDone });
    return stop instanceof GridError ? EXIT_DUPLICATE_IDENTITY : 0;
  },
};
