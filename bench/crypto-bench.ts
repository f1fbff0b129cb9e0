/**
 * What sealing and opening one DATA frame costs, per suite and datagram size
 * (64 B, 1400 B, 64 KiB), on one core: our DataSealer/DataOpener (node:crypto,
 * OpenSSL) against the same construction on @noble/ciphers + @noble/hashes;
 * then X25519 both ways and full handshakes (initiator + responder) per second.
 * Prints markdown tables. Each figure is the best of ROUNDS timed rounds, so
 * other load on the machine lowers it less. A script, not a test:
 *   node --import tsx bench/crypto-bench.ts
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createDataCiphers, SUITES, type DataOpener, type SuiteName } from '../src/crypto/data-cipher.js';
import { generateKeyPair, InitiatorHandshake, ResponderHandshake } from '../src/crypto/handshake.js';
import { DH } from '../src/crypto/noise/dh.js';
import { nativeAead } from '../src/crypto/native-aead.js';

const SIZES = [64, 1400, 65536];
const ROUNDS = 5;
const ROUND_MS = 150;
const RING_FRAMES = 128;
const HEADER = new Uint8Array(12).fill(0x42);
/** sendKey = receiveKey: the opener from the same call opens what the sealer sealed. */
const LOOPBACK_KEYS = { sendKey: new Uint8Array(32).fill(1), receiveKey: new Uint8Array(32).fill(1), handshakeHash: new Uint8Array(32).fill(2) };

/** Operations per second: the best of ROUNDS rounds; `batch` runs `count` operations and returns its own elapsed ms. */
function rate(batch: () => { count: number; ms: number }): number {
  batch(); // warm-up
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let count = 0;
    let ms = 0;
    while (ms < ROUND_MS) {
      const result = batch();
      count += result.count;
      ms += result.ms;
    }
    best = Math.max(best, (count * 1000) / ms);
  }
  return best;
}

function timed(count: number, run: () => void): { count: number; ms: number } {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return { count, ms: performance.now() - start };
}

interface Result {
  seal: number;
  open: number;
}

function ours(suite: SuiteName, size: number): Result {
  const plaintext = new Uint8Array(size).fill(7);
  const { sealer } = createDataCiphers(suite, LOOPBACK_KEYS, 0);
  const ciphertext = new Uint8Array(size);
  const digest = new Uint8Array(sealer.digestLength);
  const seal = rate(() => timed(32, () => sealer.seal(HEADER, plaintext, ciphertext, digest)));
  // Opening needs the frames in counter order from a fresh opener: a ring of sealed frames, one opener per pass.
  const ringSealer = createDataCiphers(suite, LOOPBACK_KEYS, 0).sealer;
  const ring = Array.from({ length: RING_FRAMES }, () => {
    const frame = { ciphertext: new Uint8Array(size), digest: new Uint8Array(sealer.digestLength) };
    ringSealer.seal(HEADER, plaintext, frame.ciphertext, frame.digest);
    return frame;
  });
  const out = new Uint8Array(size);
  const open = rate(() => {
    const opener: DataOpener = createDataCiphers(suite, LOOPBACK_KEYS, 0).opener;
    let next = 0;
    return timed(RING_FRAMES, () => {
      const frame = ring[next++]!;
      if (!opener.open(HEADER, frame.ciphertext, frame.digest, out)) throw new Error(`${suite}: open failed`);
    });
  });
  return { seal, open };
}

/** The same constructions on @noble: AEAD per frame; keystream at a block-aligned counter + HMAC-SHA-256. */
function noble(suite: SuiteName, size: number): Result {
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(12);
  const plaintext = new Uint8Array(size).fill(7);
  const counterBytes = new Uint8Array(8);
  if (suite === 'chacha20-hmac-sha256') {
    const mac = hmac.create(sha256, key);
    const ciphertext = new Uint8Array(size);
    const digest = new Uint8Array(32);
    const sealOne = () => {
      chacha20(key, nonce, plaintext, ciphertext, 1);
      mac.clone().update(HEADER).update(ciphertext).update(counterBytes).digestInto(digest);
    };
    const openOne = () => {
      const expected = mac.clone().update(HEADER).update(ciphertext).update(counterBytes).digest();
      if (expected[0] !== digest[0]) throw new Error('noble hmac mismatch');
      chacha20(key, nonce, ciphertext, plaintext, 1);
    };
    sealOne();
    return { seal: rate(() => timed(16, sealOne)), open: rate(() => timed(16, openOne)) };
  }
  if (suite === 'chacha20-poly1305') {
    const sealed = new Uint8Array(size + 16);
    const out = new Uint8Array(size);
    chacha20poly1305(key, nonce, HEADER).encrypt(plaintext, sealed);
    return {
      seal: rate(() => timed(16, () => chacha20poly1305(key, nonce, HEADER).encrypt(plaintext, sealed))),
      open: rate(() => timed(16, () => chacha20poly1305(key, nonce, HEADER).decrypt(sealed, out))),
    };
  }
  const sealed = gcm(key, nonce, HEADER).encrypt(plaintext);
  return {
    seal: rate(() => timed(16, () => gcm(key, nonce, HEADER).encrypt(plaintext))),
    open: rate(() => timed(16, () => gcm(key, nonce, HEADER).decrypt(sealed))),
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en');
const mbps = (framesPerSecond: number, size: number): string => ((framesPerSecond * size) / 1e6).toFixed(size < 1000 ? 1 : 0);

function dataTable(): string {
  const rows = ['| suite | implementation | datagram | seal frames/s | seal MB/s | open frames/s | open MB/s |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const suite of SUITES) {
    for (const size of SIZES) {
      const oursLabel = nativeAead && suite !== 'chacha20-hmac-sha256' ? 'ours: native OpenSSL context' : 'ours: node:crypto';
      for (const [impl, result] of [[oursLabel, ours(suite, size)], ['@noble', noble(suite, size)]] as const) {
        rows.push(`| ${suite} | ${impl} | ${size} | ${fmt(result.seal)} | ${mbps(result.seal, size)} | ${fmt(result.open)} | ${mbps(result.open, size)} |`);
      }
    }
  }
  return rows.join('\n');
}

/**
 * The default suite's evidence: seal+open round trips of our suites in
 * interleaved rounds (A, B, C, A, B, C, …), so drifting load hits all alike;
 * the median round per suite.
 */
function interleavedTable(): string {
  const INTERLEAVED_ROUNDS = 15;
  const rows = ['| datagram | ' + SUITES.join(' | ') + ' |', '| ---: |' + SUITES.map(() => ' ---: |').join('')];
  for (const size of [1400, 65536]) {
    const plaintext = new Uint8Array(size);
    const ciphertext = new Uint8Array(size);
    const out = new Uint8Array(size);
    const samples = new Map<SuiteName, number[]>(SUITES.map((suite) => [suite, []]));
    for (let round = 0; round < INTERLEAVED_ROUNDS; round++) {
      for (const suite of SUITES) {
        const { sealer } = createDataCiphers(suite, LOOPBACK_KEYS, 0);
        const { opener } = createDataCiphers(suite, LOOPBACK_KEYS, 0);
        const digest = new Uint8Array(sealer.digestLength);
        let count = 0;
        const start = performance.now();
        while (performance.now() - start < 100) {
          for (let i = 0; i < 16; i++) {
            sealer.seal(HEADER, plaintext, ciphertext, digest);
            if (!opener.open(HEADER, ciphertext, digest, out)) throw new Error(`${suite}: open failed`);
          }
          count += 16;
        }
        samples.get(suite)!.push((count * 1000) / (performance.now() - start));
      }
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
    rows.push(`| ${size} | ` + SUITES.map((suite) => fmt(median(samples.get(suite)!))).join(' | ') + ' |');
  }
  return rows.join('\n');
}

function handshakeTable(): string {
  const a = generateKeyPair();
  const b = generateKeyPair();
  const server = generateKeyPair();
  const client = generateKeyPair();
  const prologue = new TextEncoder().encode('tapvpn/1 bench');
  const dhNode = rate(() => timed(16, () => DH(a, b.publicKey)));
  const dhNoble = rate(() => timed(4, () => x25519.getSharedSecret(a.privateKey, b.publicKey)));
  const keygen = rate(() => timed(16, () => generateKeyPair()));
  const handshakes = rate(() =>
    timed(2, () => {
      const initiator = new InitiatorHandshake({ local: client, remoteStaticPublic: server.publicKey, prologue });
      const responder = new ResponderHandshake({ local: server, prologue });
      responder.readRequest(initiator.writeRequest(new Uint8Array(40)));
      initiator.readResponse(responder.writeResponse(new Uint8Array(120)).message);
    }),
  );
  return [
    '| operation | per second |',
    '| --- | ---: |',
    `| X25519 shared secret, node:crypto (ours: JWK import + OpenSSL) | ${fmt(dhNode)} |`,
    `| X25519 shared secret, @noble/curves | ${fmt(dhNoble)} |`,
    `| X25519 key pair generation, node:crypto | ${fmt(keygen)} |`,
    `| full IK handshake, initiator + responder on one core | ${fmt(handshakes)} |`,
  ].join('\n');
}

console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}, best of ${ROUNDS} × ${ROUND_MS} ms\n`);
console.log(dataTable());
console.log('\nseal + open round trips per second, interleaved, median of 15 rounds:\n');
console.log(interleavedTable());
console.log();
console.log(handshakeTable());
