/** A long-lived key pair (coordinator or worker), kept in its data directory so its public key is stable. */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import DHT from 'hyperdht';
import { CoordinatorErrors } from './errors.js';
import { storageError } from './storage-errors.js';

export interface KeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

/**
 * Loads the key pair in `dir/file`, or creates it. The file is written atomically (temp file,
 * fsync, rename, fsync of the directory), so a full disk or a crash leaves either no file or a
 * whole one. An empty file (what a non-atomic write on a full disk left before) never held a
 * key anyone used: it is replaced. A damaged one is not: it may be the only copy of a known key.
 * @throws GridError GRID_ERR_STORAGE_FULL (507) when the disk is full, GRID_ERR_STORAGE on other
 *   disk faults, GRID_ERR_IDENTITY_DAMAGED when the file holds no valid key pair.
 */
export function loadOrCreateKeyPair(dir: string, file = 'identity.json'): KeyPair {
  const path = join(dir, file);
  let text: string | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(err, path);
  }
  if (text !== undefined && text.trim() !== '') return parseKeyPair(text, path);
  const keyPair = DHT.keyPair();
  writeAtomically(path, JSON.stringify({ publicKey: keyPair.publicKey.toString('hex'), secretKey: keyPair.secretKey.toString('hex') }) + '\n', 0o600);
  return keyPair;
}

function parseKeyPair(text: string, path: string): KeyPair {
  let raw: { publicKey?: unknown; secretKey?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (err) {
    throw CoordinatorErrors.IDENTITY_DAMAGED(path, (err as Error).message);
  }
  const hex = (v: unknown, bytes: number) => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v);
  if (!hex(raw?.publicKey, 32) || !hex(raw?.secretKey, 64)) throw CoordinatorErrors.IDENTITY_DAMAGED(path, 'no 32-byte publicKey and 64-byte secretKey in hex');
  return { publicKey: Buffer.from(raw.publicKey as string, 'hex'), secretKey: Buffer.from(raw.secretKey as string, 'hex') };
}

/** Writes a small file so that it is either absent, as it was, or whole: never half-written. */
export function writeAtomically(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw storageError(err, path);
  }
  // The rename is durable once the directory is: best effort (not every platform opens one).
  try {
    const dirFd = openSync(join(path, '..'), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Windows cannot fsync a directory; the rename is still atomic.
  }
}
