/**
 * Payloads against the frame cap, shared by the coordinator, the node worker and the browser page
 * (isomorphic: no Node APIs). Frames are packed by encoded size, so none exceeds the cap however
 * many tasks or results are due at once; an input or output that does not fit in a frame travels
 * as a content-addressed blob: BlobChunk frames of at most BLOB_CHUNK_BYTES, named by SHA-256,
 * checked on arrival. Payloads that fit go inline as before: no extra round trip for them.
 */
import type { FrameInit, swarmgrid } from './codec.js';
import { ProtoErrors } from './errors.js';

/**
 * Largest input or output of one task, in bytes, a coordinator carries by default
 * (CoordinatorOptions.maxPayloadBytes): bigger inputs are refused at submission, bigger outputs
 * reported as error "output_too_large".
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** Blob pieces: well under any sane frame cap, small enough to interleave with other frames. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/**
 * Room kept in every frame for what is not payload: the frame's own tags, each entry's ids,
 * names, hashes and lengths (bounded per entry by ENTRY_OVERHEAD below).
 */
const FRAME_HEADROOM = 16 * 1024;
/** Upper bound on one Task's or TaskResult's encoding besides its payload and strings. */
const ENTRY_OVERHEAD = 128;

/** Bytes of payload and entries one frame may carry under `maxFrameBytes`. */
export function frameBudget(maxFrameBytes: number): number {
  return Math.max(64 * 1024, maxFrameBytes - FRAME_HEADROOM);
}

/** Size of one blob piece under `maxFrameBytes`. */
export function blobChunkBytes(maxFrameBytes: number): number {
  return Math.min(BLOB_CHUNK_BYTES, Math.floor(frameBudget(maxFrameBytes) / 2));
}

/** UTF-8 length is at most 3 bytes per UTF-16 unit: an upper bound without encoding. */
function strBytes(s: string | null | undefined): number {
  return (s?.length ?? 0) * 3;
}

/** An upper bound on the encoded size of one Task inside an Assign. */
export function taskWireBytes(t: swarmgrid.ITask): number {
  return ENTRY_OVERHEAD + (t.input?.byteLength ?? 0) + strBytes(t.batchId) + strBytes(t.kind) + strBytes(t.kindVersion)
    + (t.codeHash?.byteLength ?? 0) + (t.inputHash?.byteLength ?? 0);
}

/** An upper bound on the encoded size of one TaskResult inside a Result. */
export function resultWireBytes(r: swarmgrid.ITaskResult): number {
  return ENTRY_OVERHEAD + (r.output?.byteLength ?? 0) + strBytes(r.errorCode) + strBytes(r.errorMessage) + (r.outputHash?.byteLength ?? 0);
}

/** Whether a payload of `bytes` goes inline in a frame of `maxFrameBytes` (else as a blob). */
export function fitsInline(bytes: number, maxFrameBytes: number): boolean {
  return bytes + ENTRY_OVERHEAD + 1024 <= frameBudget(maxFrameBytes);
}

/**
 * Cuts `items` into groups whose summed `sizeOf` stays within `budget`, in order. An item bigger
 * than the budget alone gets a group of its own (callers send such payloads as blobs first).
 */
export function packBySize<T>(items: readonly T[], sizeOf: (item: T) => number, budget: number): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let size = 0;
  for (const item of items) {
    const s = sizeOf(item);
    if (group.length > 0 && size + s > budget) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(item);
    size += s;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The Assign frames carrying `tasks` (inputs that do not fit already replaced by their hash). */
export function assignFrames(tasks: readonly swarmgrid.ITask[], maxFrameBytes: number): FrameInit[] {
  return packBySize(tasks, taskWireBytes, frameBudget(maxFrameBytes)).map((group) => ({ assign: { tasks: group } }));
}

/** BlobChunk frames carrying `data` (named `hash`) for task `taskId`, from `offset`. */
export function blobFrames(taskId: number, hash: Uint8Array, data: Uint8Array, maxFrameBytes: number, offset = 0): FrameInit[] {
  const step = blobChunkBytes(maxFrameBytes);
  const frames: FrameInit[] = [];
  for (let off = offset; off < data.byteLength; off += step) {
    frames.push({ blobChunk: { taskId, hash, offset: off, totalSize: data.byteLength, data: data.subarray(off, off + step) } });
  }
  return frames;
}

/**
 * The frames that carry `results` to a coordinator: a result whose `outputHash` is set (its output
 * did not fit, see `fitsInline`) goes as BlobChunk frames followed by a Result naming the hash,
 * one blob at a time so the coordinator buffers one; the rest are packed into Result frames by size.
 */
export function resultFrames(results: readonly swarmgrid.ITaskResult[], maxFrameBytes: number): FrameInit[] {
  const frames: FrameInit[] = [];
  const inline: swarmgrid.ITaskResult[] = [];
  for (const r of results) {
    if (!r.outputHash || r.outputHash.byteLength === 0 || !r.output) {
      inline.push(r);
      continue;
    }
    const taskId = Number(r.taskId);
    frames.push(...blobFrames(taskId, r.outputHash, r.output, maxFrameBytes));
    frames.push({ result: { results: [{ taskId, outputHash: r.outputHash, outputSize: r.output.byteLength, cpuMs: r.cpuMs ?? 0 }] } });
  }
  for (const group of packBySize(inline, resultWireBytes, frameBudget(maxFrameBytes))) frames.push({ result: { results: group } });
  return frames;
}

/**
 * One blob being received, piece by piece and in order (frames arrive in order on one
 * connection). The caller checks the hash of `bytes` once `complete`.
 */
export class BlobAssembly {
  readonly hash: Uint8Array;
  readonly bytes: Uint8Array;
  #received = 0;

  constructor(hash: Uint8Array, totalSize: number, maxBytes: number) {
    if (!(totalSize >= 0 && totalSize <= maxBytes)) throw ProtoErrors.PROTOCOL(`a blob of ${totalSize} bytes exceeds the limit of ${maxBytes} bytes`);
    this.hash = hash;
    this.bytes = new Uint8Array(totalSize);
  }

  get received(): number {
    return this.#received;
  }

  get complete(): boolean {
    return this.#received === this.bytes.byteLength;
  }

  /** Adds the next piece; throws GRID_ERR_PROTOCOL on a piece out of order, of another blob, or past the end. */
  add(chunk: swarmgrid.IBlobChunk): void {
    if (!sameBytes(chunk.hash, this.hash) || chunk.totalSize !== this.bytes.byteLength) throw ProtoErrors.PROTOCOL('blob piece of another blob');
    const data = chunk.data ?? new Uint8Array(0);
    if (chunk.offset !== this.#received || this.#received + data.byteLength > this.bytes.byteLength) {
      throw ProtoErrors.PROTOCOL(`blob piece at ${String(chunk.offset)} (+${data.byteLength}) out of order: ${this.#received} of ${this.bytes.byteLength} bytes received`);
    }
    this.bytes.set(data, this.#received);
    this.#received += data.byteLength;
  }
}

export function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (!a || !b || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
