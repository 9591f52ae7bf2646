/**
 * The store stays behind its interface (coordinator/store/grid-store.ts): no SQL outside
 * coordinator/store/, and no import cycle through the store. scripts/check-store-boundary.mjs
 * does the looking; this runs it on the sources, and on a copy with a violation planted to show
 * that it sees one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHECK = join(ROOT, 'scripts', 'check-store-boundary.mjs');
const check = (root: string) => spawnSync(process.execPath, [CHECK, root], { encoding: 'utf8' });

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of coordinator/ and bin/ with `change` applied. */
function copyWith(change: (root: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), 'swarmgrid-boundary-'));
  copies.push(root);
  for (const dir of ['coordinator', 'bin']) cpSync(join(ROOT, dir), join(root, dir), { recursive: true });
  change(root);
  return root;
}

it('finds no SQL outside coordinator/store/ and no import cycle through the store', () => {
  const r = check(ROOT);
  expect(r.stdout).toBe('');
  expect(r.status).toBe(0);
});

it('names a query written outside the store', () => {
  const root = copyWith((root) => {
    const file = join(root, 'coordinator', 'feeder.ts');
    writeFileSync(file, readFileSync(file, 'utf8') + "\nexport const n = (s: any) => s.stmt('SELECT count(*) FROM tasks').get();\n");
  });
  const r = check(root);
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/^coordinator\/feeder\.ts:\d+: stmt\( outside coordinator\/store\//m);
  expect(r.stdout).toMatch(/^coordinator\/feeder\.ts:\d+: SELECT outside coordinator\/store\//m);
});

it('names a type-only import that closes a cycle through the store', () => {
  const root = copyWith((root) => {
    const file = join(root, 'coordinator', 'store', 'sqlite-workers.ts');
    writeFileSync(file, "import type { WorkerTally } from '../reputation.js';\n" + readFileSync(file, 'utf8'));
  });
  const r = check(root);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('coordinator/reputation.ts: imports coordinator/store/index.ts, and the store imports coordinator/reputation.ts');
});
