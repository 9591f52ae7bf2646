#!/usr/bin/env node
// Builds the browser volunteer page into dist/public (run by scripts/build.mjs after tsc):
// type-checks browser-worker/ against the DOM lib (it is excluded from the main tsconfig), then
// bundles the page script and the Web Worker script with esbuild for platform browser, and
// copies the static files. Everything the page needs is in dist/public: it loads nothing else.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(root, 'dist', 'public');

execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(here, 'tsconfig.json'), '--noEmit'], { cwd: root, stdio: 'inherit' });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: join(here, 'main.ts'), 'agent-worker': join(here, 'agent-worker.ts'), 'task-worker': join(here, 'task-worker.ts') },
  outdir: out,
  bundle: true,
  platform: 'browser',
  // Classic scripts (iife): a classic Worker runs in every browser that has Web Workers.
  format: 'iife',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  // protobufjs requires `long` when it can; our codec decodes 64-bit ids as numbers instead.
  alias: { long: join(here, 'shims', 'no-long.cjs') },
  logLevel: 'warning',
});

for (const file of ['index.html', 'style.css']) copyFileSync(join(here, file), join(out, file));
console.log('browser volunteer page built into dist/public');
