import { loadOrCreateKeyPair } from '../../coordinator/identity.js';
import { WorkerAgent } from '../../worker/agent.js';
import { type Command, intOption, untilSignal, usageError } from '../cli.js';
import { createLog } from '../log.js';
import { defaultThreads, swarmConfig, swarmOptions } from './common.js';
import { startStatusLine } from './status-line.js';

const KEY = /^[0-9a-f]{64}$/;

function keys(values: unknown, name: string): Set<string> {
  const list = (values as string[] | undefined) ?? [];
  for (const k of list) if (!KEY.test(k)) throw usageError(`--${name} takes a coordinator public key (64 hex characters), got "${k}"`);
  return new Set(list);
}

export const worker: Command = {
  name: 'worker',
  summary: 'donate CPU: run tasks for the coordinators of a grid',
  usage: 'swarmgrid worker [--grid NAME] [--bootstrap HOST:PORT] [--threads N]',
  options: {
    ...swarmOptions,
    threads: { type: 'string', value: 'N', default: 'all cores but one, at least 1', description: 'worker threads' },
    data: { type: 'string', value: 'DIR', default: 'none: a new identity every run', description: 'keeps this volunteer\'s identity key (and so its reputation)' },
    share: { type: 'string', multiple: true, value: 'KEY=WEIGHT', default: 'equal', description: 'weight of a coordinator\'s share of the threads (repeatable)' },
    coordinator: { type: 'string', multiple: true, value: 'KEY', default: 'any', description: 'serve only this coordinator (repeatable)' },
    trust: { type: 'string', multiple: true, value: 'KEY', default: 'none', description: 'run custom job-kind code from this coordinator (repeatable)' },
  },
  async run(v) {
    const threads = intOption(v.threads, 'threads', 1, 1024) ?? defaultThreads();
    const shares = new Map<string, number>();
    for (const s of (v.share as string[] | undefined) ?? []) {
      const m = /^([0-9a-f]{64})=(\d+(?:\.\d+)?)$/.exec(s);
      if (!m || Number(m[2]) <= 0) throw usageError(`--share takes KEY=WEIGHT with a positive weight, got "${s}"`);
      shares.set(m[1]!, Number(m[2]));
    }
    const json = !!v.json || !process.stdout.isTTY;
    const log = createLog({ json });
    const agent = new WorkerAgent({
      ...swarmConfig(v),
      threads,
      shares,
      only: keys(v.coordinator, 'coordinator'),
      trust: keys(v.trust, 'trust'),
      ...(v.data ? { keyPair: loadOrCreateKeyPair(v.data as string, 'worker-identity.json') } : {}),
      log: json ? log : () => {},
    });
    await agent.start();
    const stopStatus = json ? () => {} : startStatusLine(agent);
    if (!json) process.stdout.write(`swarmgrid worker ${agent.publicKey} with ${threads} thread(s)\n`);
    const sig = await untilSignal();
    stopStatus();
    log('worker-stopping', { signal: sig });
    await agent.close();
    log('worker-stopped', { tasksDone: agent.stats.tasksDone });
  },
};
