/**
 * Inputs fetched as content-addressed blobs (proto/payloads.ts), kept in memory by SHA-256 and
 * bounded in bytes, least recently used first out. Keyed by hash, so a copy is good whichever
 * task or coordinator it came for; entries were hash-checked on arrival.
 */
export class BlobCache {
  readonly maxBytes: number;
  #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  /** `maxBytes`: most bytes kept. @defaultValue 64 MiB */
  constructor(maxBytes = 64 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    const key = Buffer.from(hash).toString('hex');
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key); // re-inserted: most recently used last
    this.#entries.set(key, hit);
    return hit;
  }

  put(hash: Uint8Array, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBytes) return;
    const key = Buffer.from(hash).toString('hex');
    if (this.#entries.has(key)) return;
    this.#entries.set(key, bytes);
    this.#bytes += bytes.byteLength;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.byteLength;
    }
  }
}
