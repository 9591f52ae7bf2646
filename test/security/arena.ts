/**
 * The arena of the adversarial suite: a real local DHT, a coordinator with the default policy
 * (in-process, so that the test reads its records straight from its store), honest volunteers
 * as real `swarmgrid worker` processes whose DHT nodes bind other loopback addresses (each its
 * own /24), and attackers from one more /24 built with raw-volunteer.ts.
 */
import { afterEach } from 'vitest';
import { Coordinator, type CoordinatorOptions } from '../../coordinator/coordinator.js';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { createToken } from '../../coordinator/http/auth.js';
import { decodeInput, encodeOutput } from '../../jobs/codec.js';
import { getBuiltinKind } from '../../jobs/registry.js';
import type { swarmgrid } from '../../proto/codec.js';
import { eventually, type GridProcess, TestGrid } from '../helpers/grid.js';
import type { Answer, RawVolunteer } from './raw-volunteer.js';

/** Where the attackers connect from: one IPv4 /24. */
export const ATTACKER_NET = '127.66.0';

export class Arena {
  readonly grid = new TestGrid();
  coordinator!: Coordinator;
  /** The coordinator's data directory (test/helpers/sqlite.ts reads its store). */
  dataDir!: string;
  client!: GridClient;
  readonly honest: GridProcess[] = [];
  readonly raw: RawVolunteer[] = [];
  readonly events: { event: string; [k: string]: unknown }[] = [];

  async start(opts: Partial<CoordinatorOptions> = {}): Promise<this> {
    await this.grid.start();
    this.coordinator = await Coordinator.start({
      dataDir: (this.dataDir = this.grid.tempDir('swarmgrid-sec-')), grid: this.grid.grid,
      bootstrap: [{ host: '127.0.0.1', port: this.grid.dht!.port }],
      // All interfaces, IPv6 too: volunteers connect from many loopback addresses.
      httpPort: 0, httpHost: '::',
      log: (event, fields) => this.events.push({ event, ...fields }),
      ...opts,
    });
    const port = new URL(this.coordinator.httpUrl!).port;
    this.client = new GridClient({ url: `http://127.0.0.1:${port}`, token: createToken(this.coordinator.store, 'scientist') });
    return this;
  }

  /** The coordinator's URL as seen from IPv4 loopback. */
  get url(): string {
    return `http://127.0.0.1:${new URL(this.coordinator.httpUrl!).port}`;
  }

  /** Honest `swarmgrid worker` processes, the i-th on 127.(10+i).0.1: each in a /24 of its own. */
  async honestWorkers(n: number, threads = 1): Promise<GridProcess[]> {
    const started = [];
    for (let i = 0; i < n; i++) {
      const host = `127.${10 + this.honest.length}.0.1`;
      const w = await this.grid.worker({ threads, args: ['--dht-host', host] });
      this.honest.push(w);
      started.push(w);
    }
    await eventually(() => [...this.coordinator.sessions].filter((s) => s.welcomed && s.runtime === 'node' && this.honest.length > 0).length >= this.honest.length, 30_000);
    return started;
  }

  track<T extends RawVolunteer>(v: T): T {
    this.raw.push(v);
    return v;
  }

  /** Submits a batch and waits for it to finish: its id and how long it took (ms). */
  async timed(spec: Parameters<GridClient['submit']>[0]): Promise<{ id: string; ms: number }> {
    const started = Date.now();
    const { id } = await this.client.submit(spec);
    await this.finished(id);
    return { id, ms: Date.now() - started };
  }

  /** Waits for a batch to leave running; returns its row. */
  async finished(batchId: string, timeoutMs = 120_000) {
    await eventually(() => ['completed', 'failed', 'cancelled'].includes(this.coordinator.store.getBatch(batchId)?.state ?? ''), timeoutMs, 50);
    return this.coordinator.store.getBatch(batchId)!;
  }

  /**
   * Validated work units whose canonical output is not what the kind computes for the input:
   * wrong results the grid accepted. Checked against the real job kind, unit by unit.
   */
  wrongAccepted(batchId: string): { wrong: number; validated: number; failed: number } {
    const row = this.coordinator.store.getBatch(batchId)!;
    const kind = getBuiltinKind(row.kind)!;
    let wrong = 0;
    let validated = 0;
    let failed = 0;
    for (const r of this.coordinator.store.results(batchId, -1, 1_000_000)) {
      if (r.state === 'failed') {
        failed++;
        continue;
      }
      validated++;
      const expected = encodeOutput(kind, kind.run(kind.validateInput(decodeInput(r.input))));
      if (!r.output || Buffer.compare(Buffer.from(expected), Buffer.from(r.output)) !== 0) wrong++;
    }
    return { wrong, validated, failed };
  }

  async close(): Promise<void> {
    await Promise.all(this.raw.map((v) => v.close().catch(() => {})));
    await this.coordinator?.close();
    await this.grid.close();
  }
}

/**
 * One arena per test: call at the top of a test file, then `const arena = await newArena()` in a
 * test; it is closed after that test, whatever happens.
 */
export function arenaPerTest(): (opts?: Partial<CoordinatorOptions>) => Promise<Arena> {
  let current: Arena | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return (opts) => (current = new Arena()).start(opts);
}

/** The honest answer to a task: the real job kind run here. */
export function honestAnswer(task: swarmgrid.ITask): Uint8Array {
  const kind = getBuiltinKind(task.kind!)!;
  return encodeOutput(kind, kind.run(kind.validateInput(decodeInput(task.input!))));
}

/** Answers every task with the same wrong π estimate `{"inside": 0, "samples": N}`. */
export const wrongPi: Answer = (task) => {
  const input = decodeInput(task.input!) as { samples: number };
  const kind = getBuiltinKind('pi')!;
  return { output: encodeOutput(kind, { inside: 0, samples: input.samples }), cpuMs: 1 };
};

/** Answers honestly. */
export const honest: Answer = (task) => ({ output: honestAnswer(task), cpuMs: 1 });

/** Holds every task and never answers. */
export const hoard: Answer = () => undefined;
