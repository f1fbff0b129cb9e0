/**
 * Cost of sealing and opening one DATA frame's payload, per suite and size,
 * on one core: our node:crypto implementations against @noble/ciphers doing
 * the same AEAD (to show which is faster here), plus handshakes per second.
 * A script, not a test: run `node --import tsx bench/crypto-bench.ts`.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { gcm } from '@noble/ciphers/aes.js';
import { createDataCiphers, SUITES, type SuiteName } from '../src/crypto/data-cipher.js';
import { generateKeyPair, InitiatorHandshake, ResponderHandshake } from '../src/crypto/handshake.js';

const SIZES = [64, 1400, 65536];
const TARGET_MS = 400;
const keys = { sendKey: new Uint8Array(32).fill(1), receiveKey: new Uint8Array(32).fill(1), handshakeHash: new Uint8Array(32).fill(2) };

function measure(run: () => void, maxIterations = Infinity): number {
  for (let i = 0; i < 200; i++) run(); // warm up
  let iterations = 200;
  const start = performance.now();
  while (performance.now() - start < TARGET_MS && iterations + 50 <= maxIterations) {
    for (let i = 0; i < 50; i++) run();
    iterations += 50;
  }
  return ((iterations - 200) * 1000) / (performance.now() - start);
}

function ours(suite: SuiteName, size: number): { seal: number; open: number } {
  const { sealer } = createDataCiphers(suite, keys, 0);
  const { opener } = createDataCiphers(suite, keys, 0); // same keys: opener's counter follows the sealer's
  const header = new Uint8Array(12);
  const plaintext = new Uint8Array(size);
  const frames: Array<{ c: Uint8Array; d: Uint8Array }> = [];
  const seal = measure(() => {
    const c = new Uint8Array(size);
    const d = new Uint8Array(sealer.digestLength);
    sealer.seal(header, plaintext, c, d);
    if (frames.length < 1_000_000) frames.push({ c, d });
  });
  let next = 0;
  const out = new Uint8Array(size);
  const open = measure(() => {
    const frame = frames[next++];
    if (!frame || !opener.open(header, frame.c, frame.d, out)) throw new Error('open failed');
  }, frames.length); // the opener must see the sealer's frames in order, each once
  return { seal, open };
}

function noble(suite: 'chacha20-poly1305' | 'aes-256-gcm', size: number): { seal: number; open: number } {
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(12);
  const plaintext = new Uint8Array(size);
  const make = () => (suite === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad));
  const sealed = make().encrypt(plaintext);
  return { seal: measure(() => make().encrypt(plaintext)), open: measure(() => make().decrypt(sealed)) };
}

const rows: string[] = ['| suite | impl | size | seal frames/s | seal MB/s | open frames/s | open MB/s |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
const row = (suite: string, impl: string, size: number, r: { seal: number; open: number }) =>
  rows.push(`| ${suite} | ${impl} | ${size} | ${Math.round(r.seal).toLocaleString('en')} | ${((r.seal * size) / 1e6).toFixed(0)} | ${Math.round(r.open).toLocaleString('en')} | ${((r.open * size) / 1e6).toFixed(0)} |`);
for (const suite of SUITES) {
  for (const size of SIZES) {
    row(suite, 'node:crypto (ours)', size, ours(suite, size));
    if (suite !== 'chacha20-hmac-sha256') row(suite, '@noble/ciphers', size, noble(suite, size));
  }
}
const server = generateKeyPair();
const client = generateKeyPair();
const prologue = new Uint8Array(8);
const handshakes = measure(() => {
  const initiator = new InitiatorHandshake({ local: client, remoteStaticPublic: server.publicKey, prologue });
  const responder = new ResponderHandshake({ local: server, prologue });
  responder.readRequest(initiator.writeRequest(new Uint8Array(40)));
  initiator.readResponse(responder.writeResponse(new Uint8Array(120)).message);
});
console.log(rows.join('\n'));
console.log(`\nfull handshakes (both sides, one core): ${Math.round(handshakes)} /s`);
