/**
 * Typed frame codec over the static protobufjs code generated at build time
 * (proto/generated/, see scripts/build.mjs). Decoding never throws anything but a GridError.
 */
import protobuf from 'protobufjs/minimal.js';
import { swarmgrid } from './generated/swarmgrid.js';
import { ProtoErrors } from './errors.js';

// 64-bit ids decode as plain numbers (exact up to 2^53), never as Long objects: the codec was
// generated with --force-number and the runtime must agree, in Node and in browsers alike.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export { swarmgrid };

/** Bumped on incompatible wire changes; peers with another version are refused in Hello. */
export const PROTOCOL_VERSION = 1;

/** Frames larger than this are refused before any allocation (overridable per channel). */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

export type FrameInit = swarmgrid.IFrame;
export const Runtime = swarmgrid.Runtime;

/** A decoded frame narrowed to the one body it carries. */
export type Frame =
  | { kind: 'hello'; hello: swarmgrid.Hello }
  | { kind: 'welcome'; welcome: swarmgrid.Welcome }
  | { kind: 'credit'; credit: swarmgrid.Credit }
  | { kind: 'assign'; assign: swarmgrid.Assign }
  | { kind: 'result'; result: swarmgrid.Result }
  | { kind: 'ack'; ack: swarmgrid.Ack }
  | { kind: 'cancel'; cancel: swarmgrid.Cancel }
  | { kind: 'heartbeat'; heartbeat: swarmgrid.Heartbeat }
  | { kind: 'goodbye'; goodbye: swarmgrid.Goodbye }
  | { kind: 'error'; error: swarmgrid.Error }
  | { kind: 'codeRequest'; codeRequest: swarmgrid.CodeRequest }
  | { kind: 'codeBundle'; codeBundle: swarmgrid.CodeBundle }
  | { kind: 'decline'; decline: swarmgrid.Decline }
  | { kind: 'blobRequest'; blobRequest: swarmgrid.BlobRequest }
  | { kind: 'blobChunk'; blobChunk: swarmgrid.BlobChunk };

export function encodeFrame(frame: FrameInit): Uint8Array {
  return swarmgrid.Frame.encode(frame).finish();
}

export function decodeFrame(bytes: Uint8Array): Frame {
  let msg: swarmgrid.Frame;
  try {
    msg = swarmgrid.Frame.decode(bytes);
  } catch (err) {
    throw ProtoErrors.FRAME_DECODE((err as Error).message);
  }
  const kind = msg.body;
  if (!kind) throw ProtoErrors.FRAME_EMPTY();
  return { kind, [kind]: msg[kind] } as unknown as Frame;
}
