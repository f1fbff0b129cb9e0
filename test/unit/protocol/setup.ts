/**
 * Builds the in-memory tunnel used by the machine tests: an initiator
 * "alice", optional relays, a server that authorizes alice's key only.
 */
import type { Lease } from '../../../src/lease.js';
import { CloseCode } from '../../../src/protocol/frames/index.js';
import { InitiatorMachine, type InitiatorOptions } from '../../../src/protocol/machines/initiator.js';
import { RelayMachine } from '../../../src/protocol/machines/relay.js';
import { ServerMachine, type ServerOptions } from '../../../src/protocol/machines/server.js';
import type { ProtocolCrypto } from '../../../src/crypto/port.js';
import { FakeTimestampGuard, createFakeCrypto, fakeKeyPair } from './fake-crypto.js';
import { Pipe } from './pipe.js';
import { hex } from './fixtures.js';

export const LEASE: Lease = {
  address: '10.8.0.2', prefixLength: 24, gateway: '10.8.0.1', routes: [{ destination: '192.168.10.0', prefixLength: 24, gateway: '10.8.0.1' }],
  dnsServers: ['10.8.0.1'], mtu: 1400, leaseTimeSec: 3600, gatewayMac: '02:74:76:70:6e:01',
};

export interface Setup {
  crypto?: ProtocolCrypto;
  client?: Partial<InitiatorOptions>;
  server?: Partial<ServerOptions>;
  relays?: string[];
}

export const clientKeys = fakeKeyPair('alice');
export const serverKeys = fakeKeyPair('server');
export const SERVER = 'vpn.example:7000';

export function makePipe(setup: Setup = {}, cryptoFactory: () => ProtocolCrypto = () => createFakeCrypto({ nowMs: () => pipeClock.now })): Pipe {
  const crypto = setup.crypto ?? cryptoFactory();
  const relays = setup.relays ?? [];
  const client = new InitiatorMachine({
    crypto, local: clientKeys, serverPublicKey: serverKeys.publicKey, name: 'alice', path: [...relays, SERVER], ...setup.client,
  });
  const server = new ServerMachine({
    crypto, local: serverKeys, replayGuard: new FakeTimestampGuard(), names: [SERVER],
    authorize: ({ name, publicKey }) =>
      name === 'alice' && hex(publicKey) === hex(clientKeys.publicKey) ? { ok: true, lease: LEASE, policy: { tag: 'p' } } : { ok: false, code: CloseCode.AUTHENTICATION_FAILURE, reason: `unknown client ${name}` },
    ...setup.server,
  });
  const pipe = new Pipe([client, ...relays.map((name) => new RelayMachine({ names: [name] })), server]);
  pipeClock.pipe = pipe;
  return pipe;
}

/** The fake crypto's REQUEST timestamps follow the pipe's clock. */
export const pipeClock = {
  pipe: undefined as Pipe | undefined,
  get now(): number {
    return this.pipe?.nowMs ?? 0;
  },
};

