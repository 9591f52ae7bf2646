import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe('jobs/ bundles for the browser', () => {
  it('builds jobs/index.ts, registry.ts and compare.ts for platform browser with no Node built-ins', async () => {
    const result = await build({
      entryPoints: ['jobs/index.ts', 'jobs/registry.ts', 'jobs/compare.ts'].map((f) => join(root, f)),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: join(root, 'dist-browser-test'),
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = result.metafile.inputs;
    for (const [path, info] of Object.entries(inputs)) {
      expect(path.startsWith('node:') || nodeBuiltins.has(path), path).toBe(false);
      for (const imp of info.imports) {
        expect(nodeBuiltins.has(imp.path), `${path} imports ${imp.path}`).toBe(false);
        expect(imp.external ?? false, `${path} leaves ${imp.path} external`).toBe(false);
      }
    }
    // Every built-in kind made it in, fast-png included (through fflate's browser build).
    const files = Object.keys(inputs).join('\n');
    for (const f of ['jobs/primes.ts', 'jobs/mandelbrot.ts', 'jobs/ode-sweep.ts', 'jobs/hp-fold.ts', 'jobs/echo.ts', 'fast-png']) {
      expect(files).toContain(f);
    }
    expect(files).not.toMatch(/fflate\/esm\/index\.mjs/); // the Node entry, which requires worker_threads
    for (const out of result.outputFiles) expect(out.text).not.toMatch(/from\s*["']node:|require\(["'](?:node:)?(?:fs|worker_threads|module)["']\)/);
  });
});
