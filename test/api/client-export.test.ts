/**
 * `swarmgrid/client` as a consumer gets it: a project with the package in its node_modules (a
 * symlink to this checkout, built). It loads the client alone, type-checks in a strict project
 * without skipLibCheck, and bundles for browsers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
/** What a client has no use for: the store, the server, the swarm, the pools, the wire codec. */
const HEAVY = ['better-sqlite3', 'fastify', '@fastify', 'hyperswarm', 'hyperdht', 'piscina', 'protobufjs'];

let project: string;

/** Hooks that append every module a process loads (its URL) to the file in SWARMGRID_LOADED. */
const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.SWARMGRID_LOADED, url + '\\n');
  return next(url, context);
}
`;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'swarmgrid-consumer-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(root, join(project, 'node_modules', 'swarmgrid'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(project, 'hooks.mjs'), hooks);
  writeFileSync(join(project, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

/** The modules a fresh Node process loads for `import(specifier)`, and what `script` printed. */
async function loadedBy(specifier: string, name: string): Promise<{ urls: string[]; out: string }> {
  const list = join(project, `${name}.loaded`);
  const script = join(project, `${name}.mjs`);
  writeFileSync(list, '');
  writeFileSync(script, `const m = await import(${JSON.stringify(specifier)});\n`
    + "const grid = new m.GridClient({ url: 'http://127.0.0.1:9' });\n"
    + 'console.log(JSON.stringify({ url: grid.url, final: [...m.FINAL_STATES] }));\n');
  const { stdout } = await run(process.execPath, ['--import', './register.mjs', script], {
    cwd: project, env: { ...process.env, SWARMGRID_LOADED: list }, timeout: 60_000,
  });
  return { urls: readFileSync(list, 'utf8').split('\n').filter(Boolean), out: stdout.trim() };
}

const packagesIn = (urls: string[]) => HEAVY.filter((p) => urls.some((u) => u.includes(`/node_modules/${p}/`)));

describe("swarmgrid/client", () => {
  it('loads only the client: none of better-sqlite3, Fastify, Hyperswarm, Piscina, protobufjs, and no Node built-in', async () => {
    const client = await loadedBy('swarmgrid/client', 'client');
    expect(JSON.parse(client.out)).toEqual({ url: 'http://127.0.0.1:9', final: ['completed', 'failed', 'cancelled'] });
    expect(client.urls.some((u) => u.endsWith('/dist/coordinator/client/grid-client.js'))).toBe(true);
    expect(packagesIn(client.urls)).toEqual([]);
    const own = client.urls.filter((u) => u !== 'node:module' && !u.endsWith('/register.mjs') && !u.endsWith('/hooks.mjs') && !u.endsWith('/client.mjs'));
    expect(own.filter((u) => u.startsWith('node:'))).toEqual([]);
    console.log(`swarmgrid/client loads ${own.length} modules`);

    // The same check sees the heavy packages when the whole package is imported: it can fail.
    const whole = await loadedBy('swarmgrid', 'whole');
    expect(JSON.parse(whole.out).url).toBe('http://127.0.0.1:9');
    expect(packagesIn(whole.urls)).toEqual(expect.arrayContaining(['better-sqlite3', 'fastify', 'hyperswarm', 'piscina']));
    console.log(`swarmgrid loads ${whole.urls.length} modules`);
  });

  it('type-checks in a strict project without skipLibCheck, its types derived from the route schemas', async () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext',
        // No DOM and no @types/node of its own: the client's types must need neither.
        lib: ['ES2022'], types: [],
      },
      files: ['main.ts'],
    }));
    writeFileSync(join(project, 'main.ts'), `
import { GridClient, GridError, type BatchState, type BatchStatus, type KindInfo, type WorkerInfo } from 'swarmgrid/client';
const grid = new GridClient({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
export async function show(id: string): Promise<string> {
  try {
    const s: BatchStatus = await grid.status(id);
    const state: BatchState = s.state;
    const quorum: number = s.policy.quorum;
    const eta: number | null = s.etaSeconds;
    const pending: number = s.counts.pending;
    const kinds: KindInfo[] = await grid.kinds();
    const output: 'json' | 'bytes' | undefined = kinds[0]?.output;
    const runtime: WorkerInfo['runtime'] | undefined = (await grid.workers())[0]?.runtime;
    return [state, quorum, eta, pending, output, runtime].join(' ');
  } catch (err) {
    return err instanceof GridError ? err.code : 'unknown';
  }
}
// @ts-expect-error a batch has no such state: the state is the schema's enum, not any string
export const wrong: BatchState = 'paused';
`);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', project], { cwd: project, timeout: 120_000 }).catch((err: { stdout: string }) => err);
    expect(result.stdout).toBe('');
  }, 150_000);

  it("the whole package ('swarmgrid') type-checks in a strict project without skipLibCheck too", async () => {
    writeFileSync(join(project, 'tsconfig.whole.json'), JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [] },
      files: ['whole.ts'],
    }));
    writeFileSync(join(project, 'whole.ts'), `
import { Coordinator, GridClient, WorkerAgent, startBootstrap, type BatchStatus } from 'swarmgrid';
export const grid = new GridClient({ url: 'http://127.0.0.1:9' });
export type Parts = [Coordinator, WorkerAgent, BatchStatus, typeof startBootstrap];
`);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.whole.json')], { cwd: project, timeout: 120_000 }).catch((err: { stdout: string }) => err);
    // Before the build shipped types/holepunch.d.ts: TS7016 for hyperdht and hyperswarm.
    expect(result.stdout).toBe('');
  }, 150_000);

  it('makes its Idempotency-Keys without crypto.randomUUID, which browsers offer only to https pages', async () => {
    // A real HTTP server in the child records the keys; randomUUID is taken away before the client loads.
    writeFileSync(join(project, 'keys.mjs'), `
import { createServer } from 'node:http';
Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined });
const keys = [];
const server = createServer((req, res) => {
  keys.push(req.headers['idempotency-key']);
  req.resume().on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"b1","total":1,"state":"running"}'));
}).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const { GridClient } = await import('swarmgrid/client');
const grid = new GridClient({ url: 'http://127.0.0.1:' + server.address().port });
for (let i = 0; i < 2; i++) await grid.submit({ kind: 'echo', inputs: [1] });
server.close();
console.log(JSON.stringify(keys));
`);
    const { stdout } = await run(process.execPath, [join(project, 'keys.mjs')], { cwd: project, timeout: 60_000 });
    const keys = JSON.parse(stdout) as string[];
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('bundles for the browser with no Node built-ins', async () => {
    writeFileSync(join(project, 'page.js'), "import { GridClient } from 'swarmgrid/client';\nwindow.grid = new GridClient({ url: location.origin });\n");
    const result = await build({
      entryPoints: [join(project, 'page.js')],
      absWorkingDir: project,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: join(project, 'out'),
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.entries(result.metafile.inputs);
    for (const [path, info] of inputs) {
      for (const imp of info.imports) expect(nodeBuiltins.has(imp.path), `${path} imports ${imp.path}`).toBe(false);
    }
    const files = inputs.map(([path]) => path).join('\n');
    expect(files).toContain('coordinator/client/grid-client.js');
    for (const p of HEAVY) expect(files).not.toContain(`node_modules/${p}/`);
    const bytes = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
    console.log(`swarmgrid/client browser bundle: ${inputs.length} files, ${(bytes / 1024).toFixed(1)} KiB`);
  });
});
