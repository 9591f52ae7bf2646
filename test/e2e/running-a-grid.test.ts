/**
 * Running a grid without silent failures (issue 14, items 6, 7, 10), through the real CLI:
 * a port another program holds is a coded one-line error with the fix, not a stack trace; a dead
 * --bootstrap or a wrong --grid is said (GRID_ERR_DHT_UNREACHABLE, GRID_ERR_NO_COORDINATOR), not
 * left as "waiting for work" forever; the coordinator prints where its volunteer page and API
 * docs are.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TestGrid } from '../helpers/grid.js';

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A UDP port held by this test (as another program would hold 49737). */
function holdUdp(): Promise<{ socket: Socket; port: number }> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve({ socket, port: socket.address().port }));
  });
}

function holdTcp(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** A stack trace's frames, which a coded error must not print. */
const STACK = /^\s+at /m;

describe('busy ports: one coded line with the fix, non-zero exit', () => {
  const grid = new TestGrid();
  afterAll(() => grid.close());

  it('swarmgrid dht --port on a UDP port in use: GRID_ERR_PORT_IN_USE naming --port', async () => {
    const held = await holdUdp();
    try {
      const run = await cli(['dht', '--port', String(held.port)]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`swarmgrid dht: GRID_ERR_PORT_IN_USE: DHT (UDP) port ${held.port} is in use on 127.0.0.1: pick another with --port (0 = any free port) or stop the program that holds it\n`);
      expect(run.stderr).not.toMatch(STACK);
    } finally {
      held.socket.close();
    }
  });

  it('swarmgrid coordinator --http-port on a TCP port in use: GRID_ERR_PORT_IN_USE naming --http-port, and the data directory is free again', async () => {
    const held = await holdTcp();
    const data = grid.tempDir('swarmgrid-port-');
    try {
      const run = await cli(['coordinator', '--data', data, '--grid', grid.grid, '--bootstrap', '127.0.0.1:9', '--http-port', String(held.port)]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`swarmgrid coordinator: GRID_ERR_PORT_IN_USE: HTTP port ${held.port} is in use on 127.0.0.1: pick another with --http-port (0 = any free port) or stop the program that holds it\n`);
      expect(run.stderr).not.toMatch(STACK);
    } finally {
      held.server.close();
    }
    // The failed start released its store: the same --data serves at once.
    const list = await cli(['token', 'list', '--data', data]);
    expect(list.code).toBe(0);
  });

  it('swarmgrid dht --host on an address this machine does not have: GRID_ERR_ADDRESS_UNAVAILABLE naming --host', async () => {
    const run = await cli(['dht', '--port', '0', '--host', '192.0.2.77']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^swarmgrid dht: GRID_ERR_ADDRESS_UNAVAILABLE: DHT \(UDP\) address 192\.0\.2\.77 is not an address of this machine: pick another with --host\n$/);
  });

  it('swarmgrid worker and coordinator --dht-host on an address this machine does not have: GRID_ERR_ADDRESS_UNAVAILABLE naming --dht-host, not a DHT left unbound', async () => {
    const worker = await cli(['worker', '--grid', grid.grid, '--bootstrap', '127.0.0.1:9', '--dht-host', '192.0.2.77', '--json']);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toBe('swarmgrid worker: GRID_ERR_ADDRESS_UNAVAILABLE: DHT (UDP) address 192.0.2.77 is not an address of this machine: pick another with --dht-host\n');
    const coordinator = await cli(['coordinator', '--data', grid.tempDir('swarmgrid-host-'), '--grid', grid.grid, '--bootstrap', '127.0.0.1:9', '--dht-host', '192.0.2.77', '--http-port', '0']);
    expect(coordinator.code).toBe(2);
    expect(coordinator.stderr).toBe('swarmgrid coordinator: GRID_ERR_ADDRESS_UNAVAILABLE: DHT (UDP) address 192.0.2.77 is not an address of this machine: pick another with --dht-host\n');
  });
});

describe('a dead --bootstrap or a wrong --grid is said', () => {
  const grid = new TestGrid();
  let deadPort: number;
  beforeAll(async () => {
    await grid.start();
    // A UDP port nobody answers on: bound, then let go.
    const held = await holdUdp();
    deadPort = held.port;
    await new Promise<void>((r) => held.socket.close(() => r()));
  });
  afterAll(() => grid.close());

  it('a coordinator with an unreachable bootstrap logs GRID_ERR_DHT_UNREACHABLE before coordinator-ready', async () => {
    const data = grid.tempDir('swarmgrid-dead-');
    const p = grid.spawn(['coordinator', '--data', data, '--grid', grid.grid, '--bootstrap', `127.0.0.1:${deadPort}`, '--http-port', '0', '--json']);
    const warning = await p.waitFor('dht-unreachable', undefined, 60_000);
    expect(warning.code).toBe('GRID_ERR_DHT_UNREACHABLE');
    expect(warning.message).toContain(`bootstrap 127.0.0.1:${deadPort}`);
    expect(warning.message).toContain('--bootstrap');
    await p.waitFor('coordinator-ready', undefined, 60_000);
    const order = p.events.map((e) => e.event);
    expect(order.indexOf('dht-unreachable')).toBeLessThan(order.indexOf('coordinator-ready'));
  });

  it('a worker with an unreachable bootstrap logs GRID_ERR_DHT_UNREACHABLE, then GRID_ERR_NO_COORDINATOR with the hint', async () => {
    const p = grid.spawn(['worker', '--grid', grid.grid, '--bootstrap', `127.0.0.1:${deadPort}`, '--threads', '1', '--json', '--coordinator-timeout', '3']);
    const warning = await p.waitFor('dht-unreachable', undefined, 60_000);
    expect(warning.code).toBe('GRID_ERR_DHT_UNREACHABLE');
    const none = await p.waitFor('no-coordinator', undefined, 60_000);
    expect(none.code).toBe('GRID_ERR_NO_COORDINATOR');
    await p.stop();
  });

  it('on a terminal, the worker prints both warnings as lines of their own above its status line', async () => {
    // util-linux `script` runs the worker on a pseudo-terminal; `timeout` ends it (SIGTERM).
    const command = `timeout -s TERM 15 ${process.execPath} ${CLI} worker --grid ${grid.grid} --bootstrap 127.0.0.1:${deadPort} --threads 1 --coordinator-timeout 3`;
    const out = await new Promise<string>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { timeout: 60_000 }, (_err, stdout) => resolve(stdout));
    });
    const lines = out.split(/\r|\n/).map((l) => l.replace(/\x1b\[2K/g, '').trim()).filter(Boolean);
    expect(lines).toContain(`swarmgrid worker: GRID_ERR_DHT_UNREACHABLE: no DHT node answered (bootstrap 127.0.0.1:${deadPort}): check --bootstrap HOST:PORT and that \`swarmgrid dht\` runs there and its UDP port is reachable; retrying in the background`);
    expect(lines).toContain(`swarmgrid worker: GRID_ERR_NO_COORDINATOR: no coordinator found on grid "${grid.grid}" after 3 s: check --grid (it must be the coordinator's --grid) and --bootstrap (the DHT the coordinator uses); still looking`);
  });

  it('a worker on a grid no coordinator serves logs GRID_ERR_NO_COORDINATOR naming --grid; one on the right grid warns of nothing', async () => {
    const coord = await grid.coordinator();
    const wrong = grid.spawn(['worker', '--grid', `${grid.grid}-typo`, '--bootstrap', grid.bootstrap, '--threads', '1', '--json', '--coordinator-timeout', '3']);
    const right = await grid.worker({ args: ['--coordinator-timeout', '3'] });
    const none = await wrong.waitFor('no-coordinator', undefined, 60_000);
    expect(none.code).toBe('GRID_ERR_NO_COORDINATOR');
    expect(none.message).toContain(`grid "${grid.grid}-typo"`);
    expect(none.message).toMatch(/check --grid .* and --bootstrap/);
    expect(none.grid).toBe(`${grid.grid}-typo`);
    await right.waitFor('coordinator-joined');
    // Past its timeout and bootstrapped: a worker that found its coordinator said nothing.
    await new Promise((r) => setTimeout(r, 4000));
    expect(right.events.filter((e) => e.event === 'no-coordinator' || e.event === 'dht-unreachable')).toEqual([]);
    expect(wrong.events.some((e) => e.event === 'dht-unreachable')).toBe(false);
    expect(coord.events.some((e) => e.event === 'dht-unreachable')).toBe(false);
  });
});

describe('the coordinator says where its page and docs are', () => {
  const grid = new TestGrid();
  beforeAll(() => grid.start());
  afterAll(() => grid.close());

  it('coordinator-ready carries the volunteer page and /docs URLs, and both answer', async () => {
    const coord = await grid.coordinator();
    const ready = await coord.waitFor('coordinator-ready');
    expect(ready.volunteerPage).toBe(`${coord.url}/`);
    expect(ready.apiDocs).toBe(`${coord.url}/docs`);
    for (const url of [ready.volunteerPage, ready.apiDocs] as string[]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
    }
  });
});
