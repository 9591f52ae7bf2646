/** The volunteer's command line: every option documented with its default, and bad input refused. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { worker } from '../../bin/commands/worker.js';
import { CLI } from '../helpers/grid.js';
import { COLLATZ } from './helpers.js';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('swarmgrid worker --help', () => {
  const help = execFileSync(process.execPath, [CLI, 'worker', '--help'], { encoding: 'utf8' });

  it('documents every option with its default', () => {
    const names = Object.keys(worker.options);
    expect(names).toEqual(expect.arrayContaining(['threads', 'cpus', 'idle-only', 'max-host-load', 'idle-after', 'share', 'coordinator', 'trust', 'data', 'json']));
    for (const name of names) {
      const line = help.split('\n').find((l) => new RegExp(`^\\s+(-\\w, )?--${name} `).test(l));
      expect(line, `--${name} is in the help`).toBeDefined();
      expect(line, `--${name} shows its default`).toMatch(/\(default: .+\)$/);
    }
  });

  it('refuses conflicting or malformed options with a usage error', () => {
    const both = run('worker', '--threads', '2', '--cpus', '50');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--threads or --cpus/);
    expect(run('worker', '--max-host-load', '0').stderr).toMatch(/--max-host-load must be a number from 1 to 100/);
    expect(run('worker', '--share', 'abc=2').stderr).toMatch(/--share takes KEY=WEIGHT/);
    expect(run('worker', '--trust', 'nothex').stderr).toMatch(/--trust takes a coordinator public key/);
  });
});

describe('swarmgrid kind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-kind-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds a valid module, signed, and lists it', () => {
    const added = JSON.parse(execFileSync(process.execPath, [CLI, 'kind', 'add', COLLATZ, '--data', dir, '--init', '--json'], { encoding: 'utf8' }));
    expect(added).toMatchObject({ kind: 'collatz', version: '1.0.0', replaced: null });
    expect(added.hash).toMatch(/^[0-9a-f]{64}$/);
    const listed = run('kind', 'list', '--data', dir);
    expect(listed.stdout).toContain(`collatz@1.0.0 (js) sha256:${added.hash}`);
  });

  it('refuses a module that breaks the contract, naming what is wrong', () => {
    const bad = (name: string, body: string) => {
      const file = join(dir, `${name}.mjs`);
      writeFileSync(file, body);
      return run('kind', 'add', file, '--data', dir, '--init');
    };
    const noRun = bad('no-run', "export default { name: 'x', version: '1.0.0', description: 'd', output: 'json', validateInput: (i) => i };");
    expect(noRun.status).toBe(2);
    expect(noRun.stderr).toMatch(/GRID_ERR_INVALID_KIND: .*"x" needs run\(input\)/);
    expect(bad('builtin', "export default { name: 'pi', version: '1.0.0', description: 'd', output: 'json', validateInput: (i) => i, run: (i) => i };").stderr)
      .toMatch(/name of a built-in kind/);
    expect(bad('broken', 'export default {').stderr).toMatch(/does not load/);
    expect(bad('relative', "import x from './elsewhere.mjs'; export default x;").stderr).toMatch(/does not load/);
  });
});
