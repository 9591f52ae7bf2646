/** The WASM test fixtures (test/fixtures/wasm/, rebuilt by its build.sh) and adding one as a kind. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from './grid.js';

/** The path of a committed fixture module, e.g. `floaty.wasm`. */
export const wasmFixture = (name: string): string => fileURLToPath(new URL(`../fixtures/wasm/${name}`, import.meta.url));

/**
 * `swarmgrid kind add test/fixtures/wasm/MODULE --manifest M --data DIR --json`, the manifest
 * written beside the store: the stored kind's name and bundle hash.
 */
export function addWasmKind(dataDir: string, module: string, manifest: { name: string; [field: string]: unknown }): { kind: string; hash: string } {
  const path = join(dataDir, `${manifest.name}.json`);
  writeFileSync(path, JSON.stringify(manifest));
  return JSON.parse(execFileSync(process.execPath, [CLI, 'kind', 'add', wasmFixture(module), '--manifest', path, '--data', dataDir, '--json'], { encoding: 'utf8' })) as { kind: string; hash: string };
}
