/**
 * The crypto layer as the protocol engines consume it (the ProtocolCrypto
 * port, src/crypto/port.ts): Noise IK handshakes and the DATA suites.
 */
import type { ProtocolCrypto } from './port.js';
import { createDataKeySchedule, SUITES, suiteFromId, suiteId } from './data-cipher.js';
import { InitiatorHandshake, ResponderHandshake } from './handshake.js';
import { raiseHandshakeTimestampFloor } from './tai64n.js';
import { CookieChecker, CookieGenerator } from './cookie.js';

export { TimestampGuard, HandshakeError, InitiatorHandshake, ResponderHandshake, type SessionKeys } from './handshake.js';
export { generateKeyPair, publicKeyOf, keysEqual, type StaticKeyPair } from './keys.js';
export type { HandshakeInitiator, HandshakeResponder, ProtocolCrypto, ReplayGuard } from './port.js';
export { CookieChecker, CookieGenerator } from './cookie.js';
export { SUITES, DEFAULT_SUITE, suiteId, suiteFromId, createDataCiphers, createDataKeySchedule, type SuiteName, type DataSealer, type DataOpener, type DataKeySchedule } from './data-cipher.js';

export const realCrypto: ProtocolCrypto = {
  suites: SUITES,
  suiteId,
  suiteFromId,
  createInitiator: (opts) => new InitiatorHandshake(opts),
  createResponder: (opts) => new ResponderHandshake(opts),
  raiseTimestampFloor: raiseHandshakeTimestampFloor,
  createCookieChecker: (local) => new CookieChecker(local),
  createCookieGenerator: (serverPublicKey) => new CookieGenerator(serverPublicKey),
  createDataKeySchedule,
};
