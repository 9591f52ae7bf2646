/**
 * What both volunteers share is isomorphic: the volunteer protocol core, the task-execution
 * function and the rate meter bundle for platform browser with no Node built-in (the page's
 * esbuild build would fail on one; this says which file brought it).
 */
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

it('proto/volunteer/, jobs/execute-task.ts and proto/rate-meter.ts bundle for browsers without Node built-ins', async () => {
  const result = await build({
    entryPoints: ['proto/volunteer/core.ts', 'proto/volunteer/clock.ts', 'jobs/execute-task.ts', 'proto/rate-meter.ts'].map((f) => join(root, f)),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    outdir: join(root, 'dist-browser-test'),
    metafile: true,
    logLevel: 'silent',
    alias: { long: join(root, 'browser-worker', 'shims', 'no-long.cjs') },
  });
  expect(result.errors).toEqual([]);
  for (const [path, info] of Object.entries(result.metafile.inputs)) {
    for (const imp of info.imports) expect(nodeBuiltins.has(imp.path), `${path} imports ${imp.path}`).toBe(false);
  }
});
