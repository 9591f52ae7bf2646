/** Helpers shared by the node-volunteer suites: custom kinds, batches, and reading the store. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GridClient, type BatchSpec, type BatchStatus } from '../../coordinator/client/grid-client.js';
import { CLI, type CoordinatorProcess } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';

export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
export const COLLATZ = fileURLToPath(new URL('../../examples/collatz-kind.mjs', import.meta.url));

/** `swarmgrid kind add FILE --data DIR --json`: the stored kind's name, version and hash. */
export function addKind(dataDir: string, file: string): { kind: string; version: string; hash: string; coordinator: string } {
  return JSON.parse(execFileSync(process.execPath, [CLI, 'kind', 'add', file, '--data', dataDir, '--init', '--json'], { encoding: 'utf8' })) as ReturnType<typeof addKind>;
}

export function client(c: CoordinatorProcess): GridClient {
  return new GridClient({ url: c.url, token: c.token });
}

export async function runBatch(c: CoordinatorProcess, spec: BatchSpec, timeoutMs = 60_000): Promise<BatchStatus> {
  const api = client(c);
  const { id } = await api.submit(spec);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await api.status(id);
    if (s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled') return s;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${s.state} after ${timeoutMs} ms: ${JSON.stringify(s.counts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TaskRecord {
  id: number;
  seq: number;
  batch_id: string;
  worker: string;
  state: string;
  error: string | null;
  issued_at: number;
  finished_at: number | null;
}

/** Every task of a batch (or of all batches), with its work unit's seq, straight from the store. */
export function tasks(c: CoordinatorProcess, batchId?: string): TaskRecord[] {
  const db = openStore(c.dataDir);
  try {
    return db.prepare(`SELECT t.id, w.seq, w.batch_id, t.worker, t.state, t.error, t.issued_at, t.finished_at
      FROM tasks t JOIN work_units w ON w.id = t.wu_id ${batchId ? 'WHERE w.batch_id = ?' : ''} ORDER BY t.id`)
      .all(...(batchId ? [batchId] : [])) as TaskRecord[];
  } finally {
    db.close();
  }
}

export function query<T>(c: CoordinatorProcess, sql: string, ...args: unknown[]): T[] {
  const db = openStore(c.dataDir);
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}
