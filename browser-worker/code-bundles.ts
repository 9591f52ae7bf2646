/**
 * WASM kinds' code bundles in the browser: fetched from the coordinator by hash (CodeRequest),
 * their SHA-256 checked with WebCrypto and their Ed25519 signature against the coordinator key of
 * the Welcome where WebCrypto has Ed25519 (Chromium 137+, Firefox 129+, Safari 17+; an older
 * browser relies on the hash and on the same-origin socket the page itself came over). Only
 * WASM bundles are accepted: the page runs no JavaScript it did not ship with. Kept in memory
 * for the page's life, by hash.
 */
import { isWasmBundle } from '../jobs/wasm-bundle.js';
import type { swarmgrid } from '../proto/codec.js';

const SIGNATURE_CONTEXT = new TextEncoder().encode('swarmgrid/code-bundle/v1\n');

export interface BundleSource {
  readonly coordinatorKey: string;
  requestCode(hash: Uint8Array): Promise<swarmgrid.ICodeBundle>;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function signatureOk(hash: Uint8Array, signature: Uint8Array, keyHex: string): Promise<boolean | 'unsupported'> {
  const raw = new Uint8Array((keyHex.match(/../g) ?? []).map((h) => parseInt(h, 16)));
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  } catch (err) {
    return (err as Error).name === 'NotSupportedError' ? 'unsupported' : false;
  }
  const message = new Uint8Array(SIGNATURE_CONTEXT.length + hash.length);
  message.set(SIGNATURE_CONTEXT, 0);
  message.set(hash, SIGNATURE_CONTEXT.length);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, message);
}

export class BundleCache {
  #ready = new Map<string, Promise<Uint8Array>>();

  /** The verified bundle with this hash; rejects with the reason when it fails a check. */
  obtain(source: BundleSource, hash: Uint8Array): Promise<Uint8Array> {
    const key = [...hash].map((b) => b.toString(16).padStart(2, '0')).join('');
    let ready = this.#ready.get(key);
    if (!ready) {
      ready = this.#load(source, hash);
      this.#ready.set(key, ready);
      ready.catch(() => this.#ready.delete(key));
    }
    return ready;
  }

  async #load(source: BundleSource, hash: Uint8Array): Promise<Uint8Array> {
    const bundle = await source.requestCode(hash);
    const code = bundle.code ?? new Uint8Array(0);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', code as Uint8Array<ArrayBuffer>));
    if (!equal(digest, hash)) throw new Error('GRID_ERR_CODE_HASH_MISMATCH: the code bundle does not match its hash');
    const signed = await signatureOk(hash, bundle.signature ?? new Uint8Array(0), source.coordinatorKey);
    if (signed === false) throw new Error('GRID_ERR_CODE_SIGNATURE: the code bundle is not signed by its coordinator');
    if (!isWasmBundle(code)) throw new Error('GRID_ERR_UNTRUSTED_CODE: the page runs WASM kinds only, not JavaScript from the coordinator');
    return code;
  }
}
