/** The production crypto for the protocol engines: src/crypto/ behind the ProtocolCrypto port. */
export { realCrypto, TimestampGuard } from '../crypto/index.js';
