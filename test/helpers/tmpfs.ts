/**
 * A small tmpfs for disk-full tests: a real filesystem that runs out of space. Mounting needs
 * root (CI runs as root); elsewhere `tmpfsSkipReason` says why the test is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why tmpfs tests cannot run here, or null when they can (probed once: mount and unmount). */
export const tmpfsSkipReason: string | null = (() => {
  if (process.platform !== 'linux') return 'tmpfs disk-full tests need Linux';
  if (process.getuid?.() !== 0) return 'tmpfs disk-full tests need root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-tmpfs-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs is not permitted here: ${String(r.stderr).trim() || `exit ${r.status}`}`;
  }
  spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return null;
})();

export class Tmpfs {
  readonly dir: string;
  #filler: string;

  /** Mounts a tmpfs of `size` (mount's syntax: `8m`, `256k`) on a new temp dir. */
  constructor(size: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'swarmgrid-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', this.dir]);
    this.#filler = join(this.dir, 'filler');
  }

  /** Fills every free byte (a file written until ENOSPC). */
  fill(): void {
    spawnSync('dd', ['if=/dev/zero', `of=${this.#filler}`, 'bs=4k'], { stdio: 'ignore' });
    // The last partial block too: tmpfs counts pages, but be thorough.
    try {
      writeFileSync(join(this.dir, 'filler-tail'), Buffer.alloc(4096));
    } catch {
      // full, as wanted
    }
  }

  /** Frees what `fill` took. */
  free(): void {
    for (const f of [this.#filler, join(this.dir, 'filler-tail')]) {
      try {
        unlinkSync(f);
      } catch {
        // not there
      }
    }
  }

  sub(name: string): string {
    const d = join(this.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  unmount(): void {
    spawnSync('umount', ['-l', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
