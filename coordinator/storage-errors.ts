/**
 * Local disk faults as coded errors. A full disk (ENOSPC, EDQUOT, SQLite's SQLITE_FULL) is
 * GRID_ERR_STORAGE_FULL (507): nothing was stored, and the same write succeeds once space is
 * freed. Other disk faults (EIO, EROFS, SQLITE_IOERR…) are GRID_ERR_STORAGE (500).
 */
import { GridError } from '../proto/errors.js';
import { CoordinatorErrors } from './errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const DISK = new Set(['EIO', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'EMFILE', 'ENFILE']);

/** Whether `err` says the disk is full. */
export function isStorageFull(err: unknown): boolean {
  return FULL.has((err as { code?: string } | null)?.code ?? '');
}

/** Whether `err` is a local disk fault (full or not), as opposed to a bug or bad input. */
export function isStorageFault(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? '';
  return FULL.has(code) || DISK.has(code) || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN'
    || code === 'GRID_ERR_STORAGE_FULL' || code === 'GRID_ERR_STORAGE';
}

/**
 * The coded form of a disk fault met while writing `what` (a path or "the store"); other errors
 * (and errors already coded) come back as they are.
 */
export function storageError(err: unknown, what: string): unknown {
  if (err instanceof GridError) return err;
  const message = (err as Error | null)?.message ?? String(err);
  if (isStorageFull(err)) return Object.assign(CoordinatorErrors.STORAGE_FULL(what, message), { cause: err });
  if (isStorageFault(err)) return Object.assign(CoordinatorErrors.STORAGE(what, message), { cause: err });
  return err;
}
