// A private redis-server for the BullMQ comparison: a free loopback port, a temp directory, the
// append-only file fsynced once a second (the closest Redis analogue of the coordinator's SQLite
// WAL with synchronous=NORMAL: every change logged, no fsync per commit), stopped afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, log, removeDir, tempDir } from './lib.mjs';

export function findRedisServer() {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (existsSync(p)) return p;
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Installs Debian's redis-server when it is missing and we may (root, apt-get). */
export function ensureRedisServer() {
  let bin = findRedisServer();
  if (bin) return bin;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return null;
  log('redis-server missing: apt-get install -y redis-server');
  try {
    execFileSync('apt-get', ['install', '-y', 'redis-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', 'redis-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch {
      return null;
    }
  }
  bin = findRedisServer();
  return bin;
}

export async function startRedis(bin) {
  const port = await freePort();
  const dir = tempDir('swarmgrid-bench-redis-');
  const proc = spawn(bin, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 15_000);
    const probe = async () => {
      const { default: Redis } = await import('ioredis');
      const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        await r.ping();
        r.disconnect();
        clearTimeout(timer);
        resolve();
      } catch {
        r.disconnect();
        setTimeout(probe, 100);
      }
    };
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { out += c; });
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    void probe();
  });
  return {
    port,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      removeDir(dir);
    },
  };
}
