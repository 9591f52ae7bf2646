/**
 * The command line's own checks, through the real `swarmgrid` process (no grid needed): every
 * command's --help lists all it takes, unknown or malformed options get a coded one-line error
 * naming the valid ones, and commands that edit a coordinator's data directory refuse one that
 * holds no coordinator store (issue 14, items 2, 8, 11).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/grid.js';
import { COLLATZ } from '../worker/helpers.js';

interface Run { status: number; stdout: string; stderr: string }

/** Runs the CLI without SWARMGRID_* from outside; async, so that vitest's worker stays responsive. */
function run(...args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWARMGRID_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: clean, timeout: 150_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'swarmgrid-cli-options-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The commands `swarmgrid --help` lists. */
async function commands(): Promise<string[]> {
  const help = await run('--help');
  expect(help.status).toBe(0);
  return [...help.stdout.matchAll(/^ {2}([a-z-]+) +\S/gm)].map((m) => m[1]!);
}

describe('--help of every command', () => {
  it('lists every option the command takes, and its usage line names them all or ends in [options]', async () => {
    const names = await commands();
    expect(names).toEqual(expect.arrayContaining(['demo', 'coordinator', 'worker', 'submit', 'wait', 'status', 'token', 'kind']));
    // All commands at once: each CLI start takes seconds on a loaded machine.
    await Promise.all(names.map(async (name) => {
      const help = await run(name, '--help');
      expect(help.status, `${name} --help`).toBe(0);
      const usage = /^Usage: (.*)$/m.exec(help.stdout)![1]!;
      const section = help.stdout.split('\nOptions:\n')[1]!.split('\n\n')[0]!;
      const listed = [...section.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)( \S+)?/gm)].map((m) => ({ name: m[1]!, value: !!m[2] }));
      const options = listed.filter((o) => o.name !== 'help');
      expect(options.length, `${name}: options listed`).toBeGreaterThan(0);
      for (const opt of options) {
        if (!usage.endsWith('[options]')) expect(usage, `${name}'s usage line names --${opt.name}`).toMatch(new RegExp(`--${opt.name}(?![\\w-])`));
      }
      // And the usage line names no option the command does not take.
      for (const m of usage.matchAll(/--([\w-]+)/g)) expect(listed.map((o) => o.name), `${name}'s usage names --${m[1]}`).toContain(m[1]);
      // Listed means taken: the parser accepts them all (and --help then stops before anything runs).
      const taken = await run(name, ...options.flatMap((o) => [`--${o.name}`, ...(o.value ? ['1'] : [])]), '--help');
      expect(taken.status, `${name} accepts every option listed: ${taken.stderr}`).toBe(0);
    }));
  }, 300_000);
});

describe('unknown and malformed options', () => {
  it('status ID --wait: a coded error naming the valid options and the command that follows a batch', async () => {
    const r = await run('status', '0123abcd', '--wait');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('swarmgrid status: GRID_ERR_INVALID_OPTION: unknown option --wait; status takes --url, --token, --json, --limit, --help\n'
      + '  to follow a batch until it is finished: swarmgrid wait ID [--out DIR]\n');
  }, 180_000);

  it('any command: the option probably meant, a missing value, a value given to a switch, an unknown short option', async () => {
    const [typo, thread, noValue, switchValue, short, afterValue] = await Promise.all([
      run('submit', 'x.json', '--wiat'), run('worker', '--thread', '2'), run('status', '--url'), run('status', '--json=yes'),
      run('results', 'abcd', '-x'), run('results', 'abcd', '-o', 'out.ndjson', '--bogus'),
    ]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^swarmgrid submit: GRID_ERR_INVALID_OPTION: unknown option --wiat \(did you mean --wait\?\); submit takes --url, .*--wait, .*\n {2}see: swarmgrid submit --help\n$/);
    expect(thread.stderr).toMatch(/^swarmgrid worker: GRID_ERR_INVALID_OPTION: unknown option --thread \(did you mean --threads\?\);/);
    expect(noValue.stderr).toBe('swarmgrid status: GRID_ERR_INVALID_OPTION: --url needs a value: --url URL\n');
    expect(switchValue.stderr).toBe('swarmgrid status: GRID_ERR_INVALID_OPTION: --json takes no value (it is a switch: give --json alone)\n');
    expect(short.stderr).toMatch(/^swarmgrid results: GRID_ERR_INVALID_OPTION: unknown option -x; results takes /);
    // The value of a string option is no option, even when it starts like one.
    expect(afterValue.stderr).toMatch(/unknown option --bogus;/);
    for (const r of [typo, thread, noValue, switchValue, short, afterValue]) {
      expect(r.status).toBe(2);
      expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|place it after/);
    }
  }, 180_000);

  it('an unknown command names the one probably meant; watch is wait', async () => {
    const r = await run('stauts');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^swarmgrid: unknown command "stauts" \(did you mean status\?\)/);
    const watch = await run('watch', '--help');
    expect(watch.status).toBe(0);
    expect(watch.stdout).toMatch(/^swarmgrid wait: follow a batch/);
  }, 180_000);

  it('worker: --idle-after or --max-host-load without --idle-only is refused with the fix', async () => {
    const r = await run('worker', '--idle-after', '30');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('swarmgrid worker: GRID_ERR_INVALID_OPTION: --idle-after applies only with --idle-only: add --idle-only (take tasks only while the machine is otherwise idle)\n');
    expect((await run('worker', '--max-host-load', '50', '--idle-after', '5')).stderr).toMatch(/--idle-after and --max-host-load apply only with --idle-only/);
  }, 180_000);
});

describe('--data that holds no coordinator store', () => {
  it('token create/list and kind add/list refuse it, create nothing, and say the fix', async () => {
    const parent = tempDir();
    const typo = join(parent, 'cord');
    const cases = [['token', 'create'], ['token', 'list'], ['token', 'revoke', 'abcdef12'], ['kind', 'list'], ['kind', 'add', COLLATZ]];
    const runs = await Promise.all(cases.map((args) => run(...args, '--data', typo)));
    for (const [i, r] of runs.entries()) {
      const args = cases[i]!;
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`swarmgrid ${args[0]}: GRID_ERR_NO_STORE: --data ${typo} does not exist (no coordinator.sqlite): check the path; `
        + `to make a new store there, add --init or start swarmgrid coordinator --data ${typo}\n`);
    }
    expect(existsSync(typo), 'no directory made').toBe(false);
    // A directory that exists but is no coordinator's (a worker's --data, say): the same, and left as it was.
    const other = join(parent, 'worker-data');
    mkdirSync(other);
    const r = await run('token', 'list', '--data', other);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/GRID_ERR_NO_STORE: --data .*worker-data holds no coordinator store/);
    expect(readdirSync(other)).toEqual([]);
  }, 180_000);

  it('--init makes the store (create, add only); then list finds it', async () => {
    const dir = join(tempDir(), 'new-grid');
    const made = await run('token', 'create', '--data', dir, '--init', '--name', 'first');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/^sg_/);
    const list = await run('token', 'list', '--data', dir);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/ first\n$/);
    expect((await run('token', 'list', '--data', dir, '--init')).stderr).toMatch(/GRID_ERR_INVALID_OPTION: --init is for swarmgrid token create/);
    expect((await run('kind', 'add', COLLATZ, '--data', join(tempDir(), 'k'), '--init')).status).toBe(0);
  }, 180_000);
});
