import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Bundles `entries` (paths from the repository root) for platform browser, as the page's esbuild
 * build does, and fails naming the file that brought in a Node built-in or left an import external.
 */
async function browserBundle(entries: string[], alias?: Record<string, string>) {
  const result = await build({
    entryPoints: entries.map((f) => join(root, f)),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    outdir: join(root, 'dist-browser-test'),
    metafile: true,
    logLevel: 'silent',
    ...(alias && { alias }),
  });
  expect(result.errors).toEqual([]);
  for (const [path, info] of Object.entries(result.metafile.inputs)) {
    expect(path.startsWith('node:') || nodeBuiltins.has(path), path).toBe(false);
    for (const imp of info.imports) {
      expect(nodeBuiltins.has(imp.path), `${path} imports ${imp.path}`).toBe(false);
      expect(imp.external ?? false, `${path} leaves ${imp.path} external`).toBe(false);
    }
  }
  return result;
}

describe('jobs/ bundles for the browser', () => {
  it('builds jobs/index.ts, registry.ts and compare.ts for platform browser with no Node built-ins', async () => {
    const result = await browserBundle(['jobs/index.ts', 'jobs/registry.ts', 'jobs/compare.ts']);
    const inputs = result.metafile.inputs;
    // Every built-in kind made it in, fast-png included (through fflate's browser build).
    const files = Object.keys(inputs).join('\n');
    for (const f of ['jobs/primes.ts', 'jobs/mandelbrot.ts', 'jobs/ode-sweep.ts', 'jobs/hp-fold.ts', 'jobs/echo.ts', 'fast-png']) {
      expect(files).toContain(f);
    }
    expect(files).not.toMatch(/fflate\/esm\/index\.mjs/); // the Node entry, which requires worker_threads
    for (const out of result.outputFiles) expect(out.text).not.toMatch(/from\s*["']node:|require\(["'](?:node:)?(?:fs|worker_threads|module)["']\)/);
  });
});

describe('what both volunteers share bundles for the browser', () => {
  // The volunteer protocol core, the task-execution function and the rate meter: the page's build
  // would fail on a Node built-in in any of them.
  it('proto/volunteer/, jobs/execute-task.ts and proto/rate-meter.ts bundle with no Node built-ins', async () => {
    await browserBundle(['proto/volunteer/core.ts', 'proto/volunteer/clock.ts', 'jobs/execute-task.ts', 'proto/rate-meter.ts'],
      { long: join(root, 'browser-worker', 'shims', 'no-long.cjs') });
  });
});
