/**
 * A stand-in for src/crypto/ with the same interfaces, for the engine tests
 * while the real one is being written (and to keep these tests about the
 * protocol, not the ciphers). NOT secure: payloads travel in clear; but every
 * check the protocol relies on is real — the request names the server key it
 * was made for, messages carry HMACs over the prologue, the data digest is an
 * HMAC over header ‖ ciphertext ‖ counter, keys differ per direction and keyId.
 */
import { createHash, createHmac } from 'node:crypto';
import { CookieChecker, CookieGenerator } from '../../../src/crypto/cookie.js';
import type { DataKeySchedule, DataOpener, DataSealer, ProtocolCrypto, ReplayGuard, SessionKeys, StaticKeyPair, SuiteName } from '../../../src/crypto/port.js';

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Uint8Array => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function fakeKeyPair(seed: string): StaticKeyPair {
  const privateKey = sha(text(`private ${seed}`));
  return { privateKey, publicKey: sha(text('public'), privateKey) };
}

const SUITES: SuiteName[] = ['chacha20-poly1305', 'aes-256-gcm', 'chacha20-hmac-sha256'];

function counterBytes(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

class FakeCipher {
  count = 0;
  bytes = 0;
  constructor(readonly suite: SuiteName, readonly keyId: number, private readonly key: Uint8Array, readonly digestLength: number) {}
  private xor(input: Uint8Array, output: Uint8Array): void {
    const pad = sha(this.key, counterBytes(this.count));
    for (let i = 0; i < input.length; i++) output[i] = input[i]! ^ pad[i % 32]!;
  }
  digest(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    return hmac(this.key, header, ciphertext, counterBytes(this.count)).subarray(0, this.digestLength);
  }
  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void {
    this.xor(plaintext, ciphertextOut);
    digestOut.set(this.digest(header, ciphertextOut));
    this.count++;
    this.bytes += plaintext.length;
  }
  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean {
    if (!equal(this.digest(header, ciphertext), digest)) return false;
    this.xor(ciphertext, plaintextOut);
    this.count++;
    return true;
  }
  destroy(): void {}
  get framesSealed(): number { return this.count; }
  get bytesSealed(): number { return this.bytes; }
  get framesOpened(): number { return this.count; }
}

function deriveKeys(ephemeral: Uint8Array, initiator: Uint8Array, responder: Uint8Array, prologue: Uint8Array) {
  const base = sha(ephemeral, initiator, responder, prologue);
  return { i2r: sha(base, text('i2r')), r2i: sha(base, text('r2i')), hash: sha(base, text('hash')) };
}

let ephemeralCounter = 0;

export function createFakeCrypto(opts: { nowMs?: () => number } = {}): ProtocolCrypto {
  const clock = opts.nowMs ?? (() => Date.now());
  let floorMs = -1; // raised by raiseTimestampFloor: later timestamps are past it
  const now = () => Math.max(clock(), floorMs + 1);
  return {
    suites: SUITES,
    suiteId: (name) => SUITES.indexOf(name) + 1,
    suiteFromId: (id) => SUITES[id - 1],
    // message 1 = e(32) ‖ initiator public(32) ‖ tag of the intended server key(16) ‖ timestamp(12) ‖ payload ‖ mac(16)
    createInitiator({ local, remoteStaticPublic, prologue }) {
      const e = sha(text(`ephemeral ${ephemeralCounter++}`), local.privateKey);
      return {
        writeRequest(payload) {
          const ts = new Uint8Array(12);
          new DataView(ts.buffer).setBigUint64(0, BigInt(Math.floor(now())));
          const body = new Uint8Array([...e, ...local.publicKey, ...sha(remoteStaticPublic).subarray(0, 16), ...ts, ...payload]);
          return new Uint8Array([...body, ...hmac(remoteStaticPublic, prologue, body).subarray(0, 16)]);
        },
        readResponse(message) {
          const k = deriveKeys(e, local.publicKey, remoteStaticPublic, prologue);
          const body = message.subarray(0, message.length - 16);
          if (message.length < 48 || !equal(hmac(k.r2i, body).subarray(0, 16), message.subarray(message.length - 16))) throw new Error('DECRYPT_FAILED');
          return { payload: body.subarray(32), keys: { sendKey: k.i2r, receiveKey: k.r2i, handshakeHash: k.hash } };
        },
      };
    },
    raiseTimestampFloor(accepted) {
      if (accepted.length !== 12) return false;
      floorMs = Math.max(floorMs, Number(new DataView(accepted.buffer, accepted.byteOffset).getBigUint64(0)));
      return true;
    },
    createResponder({ local, prologue }) {
      let keys: ReturnType<typeof deriveKeys> | undefined;
      return {
        readRequest(message) {
          if (message.length < 108) throw new Error('BAD_LENGTH');
          const body = message.subarray(0, message.length - 16);
          if (!equal(body.subarray(64, 80), sha(local.publicKey).subarray(0, 16))) throw new Error('DECRYPT_FAILED');
          if (!equal(hmac(local.publicKey, prologue, body).subarray(0, 16), message.subarray(message.length - 16))) throw new Error('DECRYPT_FAILED');
          const remoteStaticPublic = body.slice(32, 64);
          keys = deriveKeys(body.subarray(0, 32), remoteStaticPublic, local.publicKey, prologue);
          return { remoteStaticPublic, timestamp: body.slice(80, 92), payload: body.subarray(92) };
        },
        writeResponse(payload) {
          if (!keys) throw new Error('BAD_STATE');
          const body = new Uint8Array([...sha(text('responder e')), ...payload]);
          return { message: new Uint8Array([...body, ...hmac(keys.r2i, body).subarray(0, 16)]), keys: { sendKey: keys.r2i, receiveKey: keys.i2r, handshakeHash: keys.hash } };
        },
      };
    },
    // The real mac1/mac2 and cookie code: it is keyed hashes over bytes, cheap and independent of the Noise stand-in.
    createCookieChecker: (local) => new CookieChecker(local),
    createCookieGenerator: (serverPublicKey) => new CookieGenerator(serverPublicKey),
    createDataKeySchedule(suite: SuiteName, keys: SessionKeys): DataKeySchedule {
      const d = suite === 'chacha20-hmac-sha256' ? 32 : 16;
      let send: Uint8Array = keys.sendKey.slice();
      let receive: Uint8Array = keys.receiveKey.slice();
      const schedule = {
        sealer: new FakeCipher(suite, 0, send, d) as DataSealer,
        opener: new FakeCipher(suite, 0, receive, d) as DataOpener,
        nextSealer: () => (schedule.sealer = new FakeCipher(suite, schedule.sealer.keyId + 1, (send = sha(send, text('next'))), d) as DataSealer),
        nextOpener: () => (schedule.opener = new FakeCipher(suite, schedule.opener.keyId + 1, (receive = sha(receive, text('next'))), d) as DataOpener),
        destroy: () => {},
      };
      return schedule;
    },
  };
}

export class FakeTimestampGuard implements ReplayGuard {
  private readonly last = new Map<string, string>();
  accept(key: Uint8Array, timestamp: Uint8Array): boolean {
    const id = Buffer.from(key).toString('hex');
    const ts = Buffer.from(timestamp).toString('hex');
    const prev = this.last.get(id);
    if (prev !== undefined && ts <= prev) return false;
    this.last.set(id, ts);
    return true;
  }
  lastAccepted(key: Uint8Array): Uint8Array | undefined {
    const ts = this.last.get(Buffer.from(key).toString('hex'));
    return ts === undefined ? undefined : new Uint8Array(Buffer.from(ts, 'hex'));
  }
}
