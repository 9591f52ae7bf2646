/** The coordinator's long-lived key pair, kept in its data directory so its public key is stable. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import DHT from 'hyperdht';

export interface KeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

export function loadOrCreateKeyPair(dir: string, file = 'identity.json'): KeyPair {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  if (existsSync(path)) {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as { publicKey: string; secretKey: string };
    return { publicKey: Buffer.from(raw.publicKey, 'hex'), secretKey: Buffer.from(raw.secretKey, 'hex') };
  }
  const keyPair = DHT.keyPair();
  writeFileSync(path, JSON.stringify({ publicKey: keyPair.publicKey.toString('hex'), secretKey: keyPair.secretKey.toString('hex') }) + '\n', { mode: 0o600 });
  return keyPair;
}
