/**
 * The protocol engines with the real crypto (not the test stand-in): a full
 * client → relay → server handshake with real X25519 keys, datagrams both
 * ways for every suite, an unknown client key, and a wrong pinned server key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realCrypto, TimestampGuard, generateKeyPair } from '../../../src/crypto/index.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import { RelayMachine } from '../../../src/protocol/machines/relay.js';
import { ServerMachine } from '../../../src/protocol/machines/server.js';
import { keysEqual } from '../../../src/crypto/keys.js';
import { Pipe } from '../protocol/pipe.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';

const SERVER = 'vpn.example:7000';
const LEASE: Lease = { address: '10.77.0.2', prefixLength: 24, gateway: '10.77.0.1', routes: [], dnsServers: [], mtu: 1400, leaseTimeSec: 600, gatewayMac: DEFAULT_GATEWAY_MAC };
const datagram = Uint8Array.from({ length: 1400 }, (_, i) => i * 7);

function makeRealPipe(opts: { pinnedServerKey?: Uint8Array; suite?: 'aes-256-gcm' | 'chacha20-poly1305' | 'chacha20-hmac-sha256'; clientKey?: ReturnType<typeof generateKeyPair> } = {}) {
  const server = generateKeyPair();
  const alice = generateKeyPair();
  const client = opts.clientKey ?? alice;
  const suites = opts.suite ? [opts.suite] : undefined;
  const initiator = new InitiatorMachine({ crypto: realCrypto, local: client, serverPublicKey: opts.pinnedServerKey ?? server.publicKey, name: 'alice', path: ['relay.example:443', SERVER], ...(suites ? { suites } : {}), reconnect: false });
  const responder = new ServerMachine({
    crypto: realCrypto,
    local: server,
    replayGuard: new TimestampGuard(),
    names: [SERVER],
    authorize: ({ name, publicKey }) => (name === 'alice' && keysEqual(publicKey, alice.publicKey) ? { ok: true, lease: LEASE } : { ok: false, code: CloseCode.AUTHENTICATION_FAILURE, reason: 'unknown' }),
  });
  return new Pipe([initiator, new RelayMachine({ names: ['relay.example:443'] }), responder]);
}

for (const suite of ['aes-256-gcm', 'chacha20-poly1305', 'chacha20-hmac-sha256'] as const) {
  test(`real crypto through a relay, ${suite}: authorized both ends, datagrams both ways`, () => {
    const pipe = makeRealPipe({ suite });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.client.state, 'authorized');
    assert.equal(pipe.server.state, 'authorized');
    const auth = pipe.actions[0]!.find((a) => a.type === 'authorized');
    assert.ok(auth?.type === 'authorized');
    assert.equal(auth.info.suite, suite);
    assert.deepEqual(auth.info.lease, LEASE);
    for (let i = 0; i < 3; i++) assert.ok(pipe.sendDatagram(0, 0x0800, datagram) > 0);
    assert.ok(pipe.sendDatagram(2, 0x0800, datagram.subarray(0, 64)) > 0);
    const last = pipe.delivered.length - 1;
    assert.equal(pipe.delivered[last]!.length, 3);
    assert.deepEqual(pipe.delivered[last]![2]!.datagram, datagram);
    assert.deepEqual(pipe.delivered[0]![0]!.datagram, datagram.subarray(0, 64));
  });
}

test('real crypto: a client key the server does not know is refused with AUTHENTICATION_FAILURE', () => {
  const pipe = makeRealPipe({ clientKey: generateKeyPair() });
  pipe.event(0, { type: 'start' });
  assert.notEqual(pipe.client.state, 'authorized');
  assert.equal(pipe.server.closeCode, CloseCode.AUTHENTICATION_FAILURE);
});

test('real crypto: a client that pinned the wrong server key never gets authorized', () => {
  const pipe = makeRealPipe({ pinnedServerKey: generateKeyPair().publicKey });
  pipe.event(0, { type: 'start' });
  assert.notEqual(pipe.client.state, 'authorized');
  assert.equal(pipe.server.closeCode, CloseCode.AUTHENTICATION_FAILURE);
});
