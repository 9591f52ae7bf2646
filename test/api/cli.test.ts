/**
 * The submitter's CLI over the API (`swarmgrid submit/status/results/cancel/kinds`) and the typed
 * client as the package exports it (`import { GridClient } from 'swarmgrid'`), against a real
 * coordinator process with one worker.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { clientOf } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const grid = new TestGrid();
let coord: CoordinatorProcess;
let dir: string;

beforeAll(async () => {
  await grid.start();
  coord = await grid.coordinator();
  const worker = await grid.worker();
  await worker.waitFor('coordinator-joined');
  dir = grid.tempDir('swarmgrid-cli-');
});
afterAll(() => grid.close());

interface Run { code: number; stdout: string; stderr: string }

/** Runs the CLI with a clean environment plus `env`: no SWARMGRID_* leaks in from outside. */
function cli(args: string[], env: Record<string, string> = {}, command = process.execPath, pre: string[] = [CLI]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWARMGRID_')));
  return new Promise((resolve) => {
    execFile(command, [...pre, ...args], { env: { ...clean, ...env }, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A local port nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const env = () => ({ SWARMGRID_URL: coord.url, SWARMGRID_TOKEN: coord.token });
const rep1 = { replication: 1, quorum: 1 };

describe('swarmgrid kinds', () => {
  it('lists the kinds with their params and defaults', async () => {
    const run = await cli(['kinds', '--url', coord.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^pi@2\.0\.0 {2}\(built-in, json output, exact comparison, artifact\)$/m);
    expect(run.stdout).toMatch(/^ {4}samplesPerUnit +integer +darts per work unit \(default: 1000000\)$/m);
    expect(run.stdout).toMatch(/^mandelbrot@/m);
    const json = await cli(['kinds', 'echo', '--json'], env());
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l).name)).toEqual(['echo']);
    const missing = await cli(['kinds', 'nope'], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no kind "nope"/);
  });
});

describe('swarmgrid submit', () => {
  it('--wait --out DIR with SWARMGRID_URL and SWARMGRID_TOKEN: plain progress lines, then the artifact and the results', async () => {
    const spec = join(dir, 'pi.json');
    writeFileSync(spec, JSON.stringify({ kind: 'pi', params: { workUnits: 20, samplesPerUnit: 10_000, seed: 3 }, policy: rep1 }));
    const out = join(dir, 'out');
    const run = await cli(['submit', spec, '--wait', '--out', out, '--interval', '100'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = /^submitted batch ([0-9a-f]{16}) \(pi, 20 work units\)$/m.exec(run.stdout)![1]!;
    expect(run.stdout).toMatch(new RegExp(`^${id} completed 20/20 \\(100\\.0%\\) validated 20 failed 0 `, 'm'));
    expect(run.stdout).toMatch(/^pi: completed\. pi ≈ 3\.\d+|^pi ≈ 3\.\d+/m);
    // Not a terminal: no carriage returns, no escape codes.
    expect(run.stdout).not.toMatch(/[\r\x1b]/);
    expect(JSON.parse(readFileSync(join(out, 'pi.json'), 'utf8'))).toMatchObject({ samples: 200_000, workUnits: 20 });
    const results = readFileSync(join(out, 'results.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(results.map((r) => r.seq)).toEqual([...Array(20).keys()]);
    expect(results[0]).toMatchObject({ state: 'validated', agreed: 1, output: { samples: 10_000 } });
  });

  it('streams an .ndjson spec file; status, results and cancel work on it', async () => {
    const spec = join(dir, 'echo.ndjson');
    writeFileSync(spec, [JSON.stringify({ kind: 'echo', policy: rep1 }), ...Array.from({ length: 40 }, (_, i) => JSON.stringify({ i }))].join('\n') + '\n');
    const run = await cli(['submit', spec], env());
    expect(run.code).toBe(0);
    const id = /^submitted batch ([0-9a-f]{16}) \(echo, 40 work units\)$/m.exec(run.stdout)![1]!;
    await clientOf(coord).wait(id, undefined, 100);

    const one = await cli(['status', id, '--json'], env());
    expect(JSON.parse(one.stdout)).toMatchObject({ id, state: 'completed', total: 40 });
    const list = await cli(['status'], env());
    expect(list.stdout).toMatch(new RegExp(`^${id} completed 40/40`, 'm'));

    const file = join(dir, 'page.ndjson');
    const page = await cli(['results', id, '-o', file, '--after', '4', '--limit', '3'], env());
    expect(page.code).toBe(0);
    expect(page.stderr).toMatch(/^3 results written to /);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([5, 6, 7].map((i) => ({ seq: i, state: 'validated', output: { i }, agreed: 1 })));
    const all = await cli(['results', id], env());
    expect(all.stdout.trim().split('\n')).toHaveLength(40);

    const done = await cli(['cancel', id], env());
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/^swarmgrid cancel: GRID_ERR_BATCH_FINISHED: batch [0-9a-f]+ is already completed$/m);
  });

  it('swarmgrid cancel withdraws a running batch', async () => {
    const { id } = await clientOf(coord).submit({ kind: 'pi', params: { workUnits: 10, samplesPerUnit: 100_000_000 }, policy: { ...rep1, timeout: 600 } });
    const run = await cli(['cancel', id, '--url', coord.url, '--token', coord.token]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${id} cancelled `));
  });

  it('shows a progress bar on a terminal', async () => {
    const spec = join(dir, 'tty.json');
    writeFileSync(spec, JSON.stringify({ kind: 'pi', params: { workUnits: 8, samplesPerUnit: 2_000_000 }, policy: rep1 }));
    const command = `${process.execPath} ${CLI} submit ${spec} --wait --interval 100`;
    // util-linux `script` runs the command on a pseudo-terminal.
    const run = await cli(['-qec', command, '/dev/null'], env(), 'script', []);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\r\x1b\[2K\[#*-*\] [0-9a-f]{16} (running|completed) /);
    expect(run.stdout).toMatch(/\[#{30}\] [0-9a-f]{16} completed 8\/8/);
    // The bar ends as the final line: not printed a second time under it (issue 14, item 11).
    expect(run.stdout.match(/completed 8\/8/g)).toHaveLength(1);
  });

  it('says what is wrong: no URL, nobody listening, a bad token, a bad spec', async () => {
    const spec = join(dir, 'pi.json');
    const noUrl = await cli(['submit', spec]);
    expect(noUrl).toMatchObject({ code: 2, stderr: 'swarmgrid submit: GRID_ERR_NO_URL: no coordinator URL: pass --url or set SWARMGRID_URL\n' });
    const port = await closedPort();
    const down = await cli(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`swarmgrid status: GRID_ERR_UNREACHABLE: cannot reach the coordinator at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    const badToken = await cli(['submit', spec, '--token', 'sg_nope'], { SWARMGRID_URL: coord.url });
    expect(badToken).toMatchObject({
      code: 2,
      stderr: 'swarmgrid submit: GRID_ERR_UNAUTHORIZED: a valid bearer token is required\n'
        + "  pass --token TOKEN or set SWARMGRID_TOKEN; the coordinator's operator makes one with: swarmgrid token create --data DIR\n",
    });
    // A URL without its scheme: said so, with the URL that was meant.
    const noScheme = await cli(['status'], { SWARMGRID_URL: new URL(coord.url).host });
    expect(noScheme).toMatchObject({ code: 2, stderr: `swarmgrid status: GRID_ERR_BAD_URL: the coordinator URL "${new URL(coord.url).host}" is not an http(s) URL: did you mean ${coord.url}?\n` });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ kind: 'pi', params: { workUnits: 0 } }));
    const badSpec = await cli(['submit', join(dir, 'bad.json')], env());
    expect(badSpec.code).toBe(2);
    expect(badSpec.stderr).toMatch(/GRID_ERR_INVALID_PARAMS: invalid params for pi: .*workUnits/);
  });
});

/** Starts the CLI; resolves `line(re)` when stdout has a line matching re, `done` with its end. */
function started(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWARMGRID_')));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters) {
      const m = w.re.exec(stdout);
      if (m) w.resolve(m);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<Run>((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return {
    child,
    done,
    line: (re: RegExp) => new Promise<RegExpExecArray>((resolve) => {
      const m = re.exec(stdout);
      if (m) resolve(m);
      else waiters.push({ re, resolve });
    }),
  };
}

describe('following a batch: swarmgrid wait, and Ctrl-C of submit --wait (issue 14, item 2)', () => {
  it('Ctrl-C of submit --wait: the batch id was printed at once, and it says how to follow the batch again, which runs on', async () => {
    const spec = join(dir, 'long.json');
    writeFileSync(spec, JSON.stringify({ kind: 'pi', params: { workUnits: 4, samplesPerUnit: 100_000_000 }, policy: { ...rep1, timeout: 600 } }));
    const sub = started(['submit', spec, '--wait', '--out', join(dir, 'long-out')], env());
    const id = (await sub.line(/^submitted batch ([0-9a-f]{16}) \(pi, 4 work units\)$/m))[1]!;
    sub.child.kill('SIGINT');
    const run = await sub.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(`swarmgrid submit: stopped following batch ${id}, which goes on running; follow it again with: swarmgrid wait ${id} --out ${join(dir, 'long-out')}\n`);
    expect((await clientOf(coord).status(id)).state).toBe('running');
    await clientOf(coord).cancel(id);
  }, 180_000);

  it('Ctrl-C before the coordinator answered: the Idempotency-Key that gets the batch back', async () => {
    // A coordinator that takes the request and never answers.
    const sockets: Socket[] = [];
    const silent = createServer((s) => { sockets.push(s); s.resume(); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const spec = join(dir, 'unanswered.json');
      writeFileSync(spec, JSON.stringify({ kind: 'echo', inputs: [{ a: 1 }] }));
      const sub = started(['submit', spec, '--wait'], { SWARMGRID_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, SWARMGRID_TOKEN: 'sg_x' });
      await Promise.race([sub.done, (async () => {
        while (sockets.length === 0) await new Promise((r) => setTimeout(r, 50));
      })()]);
      sub.child.kill('SIGINT');
      const run = await sub.done;
      expect(run.code).toBe(130);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(new RegExp(`^swarmgrid submit: interrupted before the coordinator acknowledged the batch\\. If it was stored, this gets it back without a second batch: swarmgrid submit ${spec} --idempotency-key [0-9a-f-]{36} --wait\\n$`));
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 180_000);

  it('swarmgrid wait ID --out DIR: the final line once, the summary, the artifact and results; by a shortened id too', async () => {
    const { id } = await clientOf(coord).submit({ kind: 'pi', params: { workUnits: 5, samplesPerUnit: 1000 }, policy: rep1 });
    await clientOf(coord).wait(id, undefined, 100);
    const out = join(dir, 'wait-out');
    const run = await cli(['wait', id.slice(0, 8), '--out', out], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    // Each line once: before, a batch already finished got its final line twice.
    expect(lines.filter((l) => l.startsWith(`${id} completed 5/5`))).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${id} completed 5/5 \\(100\\.0%\\)`));
    expect(lines[1]).toMatch(/pi ≈ 3\.\d+/);
    expect(lines.slice(2)).toEqual([`artifact written to ${join(out, 'pi.json')}`, `5 results written to ${join(out, 'results.ndjson')}`]);
    const failed = await cli(['wait', '0000000000000000'], env());
    expect(failed).toMatchObject({ code: 2, stderr: 'swarmgrid wait: GRID_ERR_BATCH_NOT_FOUND: batch 0000000000000000 not found\n' });
  }, 180_000);
});

describe('shortened batch ids (issue 14, item 4)', () => {
  it('a unique prefix of 6+ hex digits works in every batch route; an ambiguous one names the candidates; a shorter one is refused', async () => {
    const c = clientOf(coord);
    const { id } = await c.submit({ kind: 'echo', inputs: [{ a: 1 }], policy: rep1 });
    await c.wait(id, undefined, 100);
    expect((await c.status(id.slice(0, 6))).id).toBe(id);
    expect((await c.status(id.slice(0, 12).toUpperCase())).id).toBe(id);
    const lines = [];
    for await (const l of c.results(id.slice(0, 7))) lines.push(l);
    expect(lines).toEqual([{ seq: 0, state: 'validated', output: { a: 1 }, agreed: 1 }]);
    const status = await cli(['status', id.slice(0, 10), '--json'], env());
    expect(JSON.parse(status.stdout)).toMatchObject({ id, state: 'completed' });
    // Another batch whose id shares the first 10 digits (written into the store beside the coordinator).
    const twin = id.slice(0, 10) + (id.slice(10) === '000000' ? '000001' : '000000');
    const db = new Database(join(coord.dataDir, 'coordinator.sqlite'));
    try {
      db.pragma('busy_timeout = 10000');
      db.prepare(`INSERT INTO batches (id, kind, kind_version, policy, state, created_at) VALUES (?, 'echo', '1.0.0', '{}', 'cancelled', ?)`).run(twin, Date.now());
    } finally {
      db.close();
    }
    const ambiguous = await cli(['status', id.slice(0, 8)], env());
    expect(ambiguous.code).toBe(2);
    const both = [id, twin].sort().join(', ');
    expect(ambiguous.stderr).toBe(`swarmgrid status: GRID_ERR_BATCH_ID_AMBIGUOUS: batch id ${id.slice(0, 8)} is the start of several batches' ids (${both}): give more of its digits\n`);
    for (const [method, path] of [['DELETE', ''], ['GET', '/results'], ['GET', '/artifact']] as const) {
      const res = await fetch(`${coord.url}/v1/batches/${id.slice(0, 8)}${path}`, { method, headers: { authorization: `Bearer ${coord.token}` } });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect((await res.json() as { code: string }).code).toBe('GRID_ERR_BATCH_ID_AMBIGUOUS');
    }
    // A full id is never taken for a prefix of another.
    expect((await c.status(twin)).id).toBe(twin);
    const short = await cli(['status', id.slice(0, 5)], env());
    expect(short).toMatchObject({ code: 2, stderr: `swarmgrid status: GRID_ERR_BATCH_ID_TOO_SHORT: no batch has the id ${id.slice(0, 5)}; a batch id may be shortened to its first 6 hex digits or more, not fewer\n` });
    expect((await cli(['status', 'ffffffffff'], env())).stderr).toMatch(/GRID_ERR_BATCH_NOT_FOUND: batch ffffffffff not found/);
  }, 180_000);

  it('cancelling by prefix: the owner checked is that of the batch the prefix names', async () => {
    const { id } = await clientOf(coord).submit({ kind: 'pi', params: { workUnits: 4, samplesPerUnit: 100_000_000 }, policy: { ...rep1, timeout: 600 } });
    const other = execFileSync(process.execPath, [CLI, 'token', 'create', '--data', coord.dataDir, '--name', 'other'], { encoding: 'utf8' }).trim();
    const refused = await cli(['cancel', id.slice(0, 8), '--url', coord.url, '--token', other]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/GRID_ERR_FORBIDDEN: this submitter token may not cancel batch/);
    const done = await cli(['cancel', id.slice(0, 8)], env());
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^${id} cancelled `));
  }, 180_000);
});

describe('swarmgrid submit --dry-run (issue 14, item 1)', () => {
  it('shows the params with their defaults, the policy and the work-unit count; stores nothing', async () => {
    const before = (await clientOf(coord).list({ limit: 1000 })).length;
    const spec = join(dir, 'dry.json');
    writeFileSync(spec, JSON.stringify({ kind: 'pi', params: { workUnits: 20 }, policy: { replication: 3 } }));
    const run = await cli(['submit', spec, '--dry-run'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^dry run, nothing submitted: pi@2\.0\.0, 20 work units$/);
    expect(JSON.parse(lines[1]!.replace(/^ +params +/, ''))).toEqual({ workUnits: 20, samplesPerUnit: 1_000_000, seed: 1 });
    expect(JSON.parse(lines[2]!.replace(/^ +policy +/, ''))).toMatchObject({ replication: 3, quorum: 2, lease: 60 });
    expect(lines[3]).toMatch(/^ +first work unit +\{.*"samples":1000000/);
    // An NDJSON spec is streamed and counted the same way.
    const nd = join(dir, 'dry.ndjson');
    writeFileSync(nd, [JSON.stringify({ kind: 'echo' }), ...Array.from({ length: 33 }, (_, i) => JSON.stringify({ i }))].join('\n') + '\n');
    const ndRun = await cli(['submit', nd, '--dry-run'], env());
    expect(ndRun.stdout).toMatch(/^dry run, nothing submitted: echo@[\d.]+, 33 work units\n {2}params +null\n/);
    expect((await clientOf(coord).list({ limit: 1000 })).length).toBe(before);
    // Refused as the submission would be.
    writeFileSync(spec, JSON.stringify({ kind: 'pi', params: { workUnits: 20, samplesPerUnits: 1000 } }));
    const typo = await cli(['submit', spec, '--dry-run'], env());
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/GRID_ERR_INVALID_PARAMS: invalid params for pi: unknown param samplesPerUnits; did you mean samplesPerUnit\?/);
    expect((await cli(['submit', spec, '--dry-run', '--wait'], env())).stderr).toMatch(/GRID_ERR_INVALID_OPTION: --dry-run submits nothing/);
  }, 180_000);
});

describe('piped into a reader that stops early (| head)', () => {
  it('results and kinds end quietly with the reader: no EPIPE trace', async () => {
    const { id } = await clientOf(coord).submit({ kind: 'echo', params: { workUnits: 5000, payloadBytes: 200 }, policy: rep1 });
    await clientOf(coord).wait(id, undefined, 100);
    for (const command of [`results ${id}`, 'kinds']) {
      // About 1.5 MB of results: far more than the pipe holds once `head` has gone.
      const run = await cli(['-c', `"${process.execPath}" "${CLI}" ${command} --url ${coord.url} | head -c 10 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`], {}, 'bash', []);
      expect(run.stderr).not.toMatch(/EPIPE|Error/);
      expect(run.stderr).toMatch(/^exit 0$/m);
    }
  });

  it('demo | head ends the demo and its worker processes with it', async () => {
    const out = grid.tempDir('swarmgrid-demo-out-');
    const run = await cli(['-c', `"${process.execPath}" "${CLI}" demo --work-units 50 --samples 1000 --no-mandelbrot --out ${out} | head -2; sleep 1; pgrep -f "swarmgrid[.]js worker --grid demo" || echo none`], {}, 'bash', []);
    expect(run.stderr).not.toMatch(/EPIPE/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('none');
  });
});

describe("the package's typed client", () => {
  it("`import { GridClient } from 'swarmgrid'` resolves through package.json exports in another project", async () => {
    const project = grid.tempDir('swarmgrid-consumer-');
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules', 'swarmgrid'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(project, 'main.mjs'), [
      "import { GridClient, GridError } from 'swarmgrid';",
      'const client = new GridClient({ url: process.argv[2], token: process.argv[3] });',
      "const { id } = await client.submit({ kind: 'echo', inputs: [{ hello: 'world' }], policy: { replication: 1, quorum: 1 } });",
      'await client.wait(id, undefined, 100);',
      'const lines = [];',
      'for await (const line of client.results(id)) lines.push(line);',
      "try { await client.status('0000000000000000'); } catch (err) { lines.push({ error: err instanceof GridError, code: err.code }); }",
      'console.log(JSON.stringify(lines));',
    ].join('\n'));
    const run = await cli([join(project, 'main.mjs'), coord.url, coord.token], {}, process.execPath, []);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([
      { seq: 0, state: 'validated', output: { hello: 'world' }, agreed: 1 },
      { error: true, code: 'GRID_ERR_BATCH_NOT_FOUND' },
    ]);
    // The types resolve the same way.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: { '.': { types: string; default: string } } };
    expect(readFileSync(join(ROOT, pkg.exports['.'].types), 'utf8')).toMatch(/export \{ GridClient/);
  });
});
