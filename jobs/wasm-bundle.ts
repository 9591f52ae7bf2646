/**
 * A WASM kind travels as one code bundle, hashed and signed like a JS kind's module
 * (worker/code-signature.ts): the manifest, the module, and the JS modules the manifest names
 * (generator, reducer: run by the coordinator only). Layout:
 *
 *     "\0sgwasm1"  (8 bytes: not JavaScript, not WebAssembly, so never mistaken for either)
 *     u32 LE       length of the header
 *     header       UTF-8 JSON { "manifest": {…}, "parts": [["module", bytes], ["generate.mjs", bytes], …] }
 *     parts        back to back, in the header's order
 *
 * Isomorphic: the coordinator packs, node workers and browsers unpack.
 */
import { parseWasmManifest, type WasmManifest } from './wasm-manifest.js';

const MAGIC = new TextEncoder().encode('\0sgwasm1');
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface WasmBundle {
  manifest: WasmManifest;
  module: Uint8Array;
  /** JS modules by the file name the manifest gives them. */
  scripts: Record<string, Uint8Array>;
}

export function isWasmBundle(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

export function packWasmBundle(bundle: WasmBundle): Uint8Array {
  const parts: [string, Uint8Array][] = [['module', bundle.module], ...Object.entries(bundle.scripts).sort(([a], [b]) => (a < b ? -1 : 1))];
  const header = encoder.encode(JSON.stringify({ manifest: bundle.manifest, parts: parts.map(([name, b]) => [name, b.length]) }));
  const out = new Uint8Array(MAGIC.length + 4 + header.length + parts.reduce((n, [, b]) => n + b.length, 0));
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  let pos = MAGIC.length + 4 + header.length;
  for (const [, b] of parts) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

/** Throws an Error saying what is wrong with a bundle that is not one. */
export function unpackWasmBundle(bytes: Uint8Array): WasmBundle {
  if (!isWasmBundle(bytes)) throw new Error('not a WASM kind bundle');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < MAGIC.length + 4) throw new Error('truncated WASM kind bundle');
  const headerLength = view.getUint32(MAGIC.length, true);
  let pos = MAGIC.length + 4 + headerLength;
  if (pos > bytes.length) throw new Error('truncated WASM kind bundle header');
  const header = JSON.parse(decoder.decode(bytes.subarray(MAGIC.length + 4, pos))) as { manifest: unknown; parts: [string, number][] };
  const manifest = parseWasmManifest(header.manifest);
  let module: Uint8Array | undefined;
  const scripts: Record<string, Uint8Array> = {};
  for (const [name, length] of header.parts) {
    if (!Number.isInteger(length) || length < 0 || pos + length > bytes.length) throw new Error(`bundle part ${name} runs past the end`);
    const part = bytes.subarray(pos, pos + length);
    pos += length;
    if (name === 'module') module = part;
    else scripts[name] = part;
  }
  if (!module || pos !== bytes.length) throw new Error('malformed WASM kind bundle');
  return { manifest, module, scripts };
}
