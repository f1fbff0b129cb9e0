/**
 * The Noise DH functions for "25519" (Noise spec rev 34 §4.1, §12.1):
 * X25519 from RFC 7748, DHLEN = 32.
 *
 * The scalar multiplications run in node:crypto (OpenSSL): measured ~20x
 * faster than @noble/curves here (docs/CRYPTO.md). Raw keys go in through
 * JWK, which OpenSSL imports an order of magnitude faster than DER. A key
 * pair's OpenSSL key object is cached beside its private key bytes, so a
 * server's static key is imported once. A public key is derived from a bare
 * private key (a configuration-time operation) through PKCS#8, the one raw
 * import OpenSSL takes without the public half.
 *
 * Guarantee: DH never returns the all-zero output of a low-order peer key;
 * it throws DhError instead (WireGuard refuses these too).
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';

export const DHLEN = 32;

export interface KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export class DhError extends Error {
  override readonly name = 'DhError';
}

/** OpenSSL key objects for private keys we have already imported or generated. */
const privateKeyObjects = new WeakMap<Uint8Array, KeyObject>();

const toBase64Url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
const fromBase64Url = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'));

function checkLength(what: string, bytes: Uint8Array): void {
  if (bytes.length !== DHLEN) throw new DhError(`${what}: expected ${DHLEN} bytes, got ${bytes.length}`);
}

/**
 * GENERATE_KEYPAIR() (§4.1): a fresh key pair from the OS's CSPRNG.
 * The key is encoded as JWK inside the generation job, never exported from
 * the KeyObject afterwards: on Node 20, KeyObject.export({format:'jwk'})
 * right after generateKeyPairSync can deadlock (the export holds the key's
 * mutex while allocating; a GC then finalizes the finished KeyGenJob, whose
 * destructor takes the same mutex) — seen here in bench/crypto-bench.ts.
 * The OpenSSL key object for DH is imported from the JWK on first use.
 */
export function generateKeypair(): KeyPair {
  // @types/node 20 lacks the 'jwk' encoding overload that Node 20 supports.
  const generate = generateKeyPairSync as unknown as (type: 'x25519', options: object) => { privateKey: JsonWebKey };
  const { privateKey: jwk } = generate('x25519', { privateKeyEncoding: { format: 'jwk' }, publicKeyEncoding: { format: 'jwk' } });
  return { privateKey: fromBase64Url(jwk.d!), publicKey: fromBase64Url(jwk.x!) };
}

/** The X25519 public key of a private key (RFC 7748 §6.1: X25519(k, 9)). */
export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  checkLength('X25519 private key', privateKey);
  const keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  return fromBase64Url(createPublicKey(keyObject).export({ format: 'jwk' }).x!);
}

/**
 * PrivateKeyInfo (RFC 5208) of an X25519 key (RFC 8410 §7) up to the key's
 * 32 bytes: SEQUENCE { version 0, AlgorithmIdentifier { id-X25519
 * 1.3.101.110 }, OCTET STRING { OCTET STRING (32) } }.
 */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function privateKeyObject(keyPair: KeyPair): KeyObject {
  let keyObject = privateKeyObjects.get(keyPair.privateKey);
  if (!keyObject) {
    checkLength('X25519 private key', keyPair.privateKey);
    checkLength('X25519 public key', keyPair.publicKey);
    const jwk = { kty: 'OKP', crv: 'X25519', d: toBase64Url(keyPair.privateKey), x: toBase64Url(keyPair.publicKey) };
    keyObject = createPrivateKey({ key: jwk, format: 'jwk' });
    privateKeyObjects.set(keyPair.privateKey, keyObject);
  }
  return keyObject;
}

/** DH(key_pair, public_key) (§4.1): X25519 of our private key and the peer's public key. */
export function DH(keyPair: KeyPair, publicKey: Uint8Array): Uint8Array {
  checkLength('X25519 peer public key', publicKey);
  let shared: Buffer;
  try {
    const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(publicKey) }, format: 'jwk' });
    shared = diffieHellman({ privateKey: privateKeyObject(keyPair), publicKey: peer });
  } catch (error) {
    throw new DhError(`X25519 failed: ${(error as Error).message}`); // OpenSSL refuses some low-order points itself
  }
  let accumulated = 0;
  for (const byte of shared) accumulated |= byte; // no early exit: constant time in the secret
  if (accumulated === 0) throw new DhError('X25519 output is all zeros: the peer public key is a low-order point');
  return new Uint8Array(shared.buffer, shared.byteOffset, shared.byteLength);
}
