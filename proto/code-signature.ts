/**
 * The signed form of a code bundle (a custom job kind's module): what is hashed, what is signed,
 * and how a worker checks both. The coordinator signs with its Hyperswarm key pair, so the key a
 * worker already authenticated in the Noise handshake is the key the bundle must verify against.
 *
 * The signature covers a context string plus the SHA-256 of the code, not the bare hash: the same
 * key pair also signs DHT records, and a domain-separated message can never be mistaken for one.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';

export const SIGNATURE_CONTEXT = 'swarmgrid/code-bundle/v1\n';

export function codeHash(code: Uint8Array): Buffer {
  return createHash('sha256').update(code).digest();
}

function signedMessage(hash: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(SIGNATURE_CONTEXT, 'utf8'), hash]);
}

/**
 * Signs a code hash with a hyperdht/sodium key pair: its 64-byte secret key is the 32-byte
 * Ed25519 seed followed by the public key, which is exactly a JWK's `d` and `x`.
 */
export function signCodeHash(hash: Uint8Array, keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }): Buffer {
  if (keyPair.secretKey.length !== 64 || keyPair.publicKey.length !== 32) throw new TypeError('expected an Ed25519 key pair (64-byte secret key, 32-byte public key)');
  const seed = Buffer.from(keyPair.secretKey.subarray(0, 32));
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: Buffer.from(keyPair.publicKey).toString('base64url') },
    format: 'jwk',
  });
  // Node does not check that `x` belongs to `d`: a mismatched pair would sign valid-looking
  // bundles that no worker can verify, so fail here, where the operator sees it.
  if (createPublicKey(key).export({ format: 'jwk' }).x !== Buffer.from(keyPair.publicKey).toString('base64url')) {
    throw new TypeError('the secret key does not belong to the public key');
  }
  return sign(null, signedMessage(hash), key);
}

export function verifyCodeHash(hash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
    return verify(null, signedMessage(hash), key, signature);
  } catch {
    return false;
  }
}
