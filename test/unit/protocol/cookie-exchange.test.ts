/**
 * The cookie exchange between the real machines with the real crypto (issue
 * 10 item 8): a server under load answers a REQUEST without a valid mac2
 * with a COOKIE, the client sends the same REQUEST again with mac2 and gets
 * in — directly and through a relay, which forwards the COOKIE byte for
 * byte. And the attacks: a forged or altered COOKIE, a REQUEST that ignores
 * its COOKIE, a mac2 made for another source, a REQUEST with a bad mac1 —
 * each refused, and the server spends no Diffie-Hellman on any of them (the
 * responder's readRequest is counted through the crypto port).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CookieChecker, CookieGenerator } from '../../../src/crypto/cookie.js';
import { realCrypto, TimestampGuard, generateKeyPair } from '../../../src/crypto/index.js';
import { keysEqual } from '../../../src/crypto/keys.js';
import type { ProtocolCrypto } from '../../../src/crypto/port.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { CloseCode, FrameType, parseClose } from '../../../src/protocol/frames/index.js';
import { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import { RelayMachine } from '../../../src/protocol/machines/relay.js';
import { ServerMachine, type HandshakeAdmission } from '../../../src/protocol/machines/server.js';
import { Pipe } from './pipe.js';

const SERVER = 'vpn.example:7000';
const RELAY = 'relay.example:7000';
const LEASE: Lease = { address: '10.77.0.2', prefixLength: 24, gateway: '10.77.0.1', routes: [], dnsServers: [], mtu: 1400, leaseTimeSec: 600, gatewayMac: DEFAULT_GATEWAY_MAC };
const serverKeys = generateKeyPair();
const aliceKeys = generateKeyPair();

/** realCrypto with every responder's readRequest (where the server's DHs are) counted. */
function countingCrypto(): { crypto: ProtocolCrypto; dh: { reads: number } } {
  const dh = { reads: 0 };
  const crypto: ProtocolCrypto = {
    ...realCrypto,
    createResponder(opts) {
      const responder = realCrypto.createResponder(opts);
      return { readRequest: (m) => (dh.reads++, responder.readRequest(m)), writeResponse: (p) => responder.writeResponse(p) };
    },
  };
  return { crypto, dh };
}

interface Setup {
  /** The gate: under load unless said otherwise. */
  admit?: (mac2Valid: boolean) => HandshakeAdmission;
  source?: string;
  cookies?: CookieChecker;
  relay?: boolean;
  clientSource?: string;
}

function makePipe(setup: Setup = {}): { pipe: Pipe; dh: { reads: number }; client: InitiatorMachine } {
  const { crypto, dh } = countingCrypto();
  const path = setup.relay ? [RELAY, SERVER] : [SERVER];
  const client = new InitiatorMachine({ crypto, local: aliceKeys, serverPublicKey: serverKeys.publicKey, name: 'alice', path, reconnect: { minDelayMs: 1000, maxDelayMs: 60_000 } });
  const server = new ServerMachine({
    crypto,
    local: serverKeys,
    replayGuard: new TimestampGuard(),
    names: [SERVER],
    source: setup.source ?? '192.0.2.7',
    ...(setup.cookies ? { cookies: setup.cookies } : {}),
    admit: ({ mac2Valid }) => (setup.admit ?? ((valid) => (valid ? 'proceed' : 'cookie')))(mac2Valid),
    authorize: ({ name, publicKey }) => (name === 'alice' && keysEqual(publicKey, aliceKeys.publicKey) ? { ok: true, lease: LEASE } : { ok: false, code: CloseCode.AUTHENTICATION_FAILURE }),
  });
  const pipe = new Pipe(setup.relay ? [client, new RelayMachine({ names: [RELAY] }), server] : [client, server]);
  return { pipe, dh, client };
}

const serverIndex = (pipe: Pipe): number => pipe.nodes.length - 1;

describe('the cookie exchange', () => {
  it('under load: REQUEST, COOKIE, the same REQUEST with mac2, RESPONSE — one DH, on the second REQUEST', () => {
    const { pipe, dh } = makePipe();
    const seen: { type: number; right: boolean; bytes: Uint8Array }[] = [];
    pipe.tamper = (_l, right, frame) => (seen.push({ type: frame[4]!, right, bytes: frame.slice() }), frame);
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.nodes[1]!.state, 'authorized');
    assert.deepEqual(seen.map((f) => f.type).slice(0, 5), [FrameType.RELAY, FrameType.REQUEST, FrameType.COOKIE, FrameType.REQUEST, FrameType.RESPONSE]);
    const [first, second] = seen.filter((f) => f.type === FrameType.REQUEST).map((f) => f.bytes);
    assert.deepEqual(first!.subarray(0, -16), second!.subarray(0, -16), 'the same REQUEST, mac1 included');
    assert.ok(first!.subarray(-16).every((b) => b === 0), 'no mac2 the first time');
    assert.ok(!second!.subarray(-16).every((b) => b === 0), 'mac2 the second time');
    assert.equal(dh.reads, 1);
  });

  it('through a relay: the relay forwards the COOKIE byte for byte and the client gets in', () => {
    const { pipe, dh } = makePipe({ relay: true });
    const cookies: Record<number, Uint8Array> = {};
    pipe.tamper = (link, right, frame) => {
      if (!right && frame[4] === FrameType.COOKIE) cookies[link] = frame.slice();
      return frame;
    };
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.nodes[2]!.state, 'authorized');
    assert.ok(cookies[0] && cookies[1], 'a COOKIE on both links');
    assert.deepEqual(cookies[0], cookies[1]);
    assert.equal(dh.reads, 1);
  });

  it('a client holding a fresh cookie sends a valid mac2 at once on its next connection, and none once it is stale', () => {
    const checker = new CookieChecker(serverKeys);
    const { pipe, client } = makePipe({ cookies: checker });
    pipe.event(0, { type: 'start' });
    assert.equal(client.state, 'authorized');
    client.handle({ type: 'tcpClosed' }, 1000);
    const nextRequest = (nowMs: number): Uint8Array => {
      client.handle({ type: 'start' }, nowMs);
      const sent = client.handle({ type: 'tcpOpened' }, nowMs).flatMap((a) => (a.type === 'send' && a.frame[4] === FrameType.REQUEST ? [a.frame] : []));
      client.handle({ type: 'tcpClosed' }, nowMs);
      return sent[0]!;
    };
    assert.ok(checker.checkMac2(nextRequest(2000), '192.0.2.7', 2000), 'mac2 valid on the next connection');
    assert.ok(nextRequest(200_000).subarray(-16).every((b) => b === 0), 'no mac2 from a cookie past its use');
  });

  it('a forged or altered COOKIE does not open: the client closes this connection and retries; no DH was spent', () => {
    for (const at of [6, 20, 49]) {
      const { pipe, dh } = makePipe();
      pipe.tamper = (_l, right, frame) => {
        if (right || frame[4] !== FrameType.COOKIE) return frame;
        const bad = frame.slice();
        bad[at]! ^= 1;
        return bad;
      };
      pipe.event(0, { type: 'start' });
      const close = pipe.closes(0)[0];
      assert.equal(close?.code, CloseCode.PROTOCOL_ERROR, `byte ${at}`);
      assert.match(close?.reason ?? '', /COOKIE did not authenticate/);
      assert.ok(pipe.actions[0]!.some((a) => a.type === 'reconnect'), 'retried');
      assert.equal(dh.reads, 0);
    }
  });

  it('a REQUEST sent again without mac2 after its COOKIE is refused BUSY, with no DH', () => {
    const { pipe, dh } = makePipe();
    pipe.tamper = (_l, right, frame) => {
      if (!right || frame[4] !== FrameType.REQUEST) return frame;
      const stripped = frame.slice();
      stripped.fill(0, stripped.length - 16); // an attacker that ignores its cookie
      return stripped;
    };
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.nodes[1]!.closeCode, CloseCode.BUSY);
    assert.match(pipe.nodes[1]!.closeReason, /without a valid mac2 after its COOKIE/);
    assert.equal(dh.reads, 0);
  });

  it('a mac2 made with a cookie for another source is no mac2: COOKIE, then refused, no DH', () => {
    const checker = new CookieChecker(serverKeys);
    const { pipe, dh } = makePipe({ cookies: checker, source: '192.0.2.7' });
    // The attacker got a cookie for its own address and replays it from another.
    const theirs = new CookieGenerator(serverKeys.publicKey);
    pipe.tamper = (_l, right, frame) => {
      if (!right || frame[4] !== FrameType.REQUEST) return frame;
      const forged = frame.slice();
      const mac1 = theirs.stamp(forged);
      const sealed = checker.reply(forged, '198.51.100.9', 0);
      theirs.stamp(forged, theirs.openReply(sealed, mac1));
      return forged;
    };
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.nodes[1]!.closeCode, CloseCode.BUSY);
    assert.equal(dh.reads, 0);
  });

  it('a REQUEST with a bad mac1 (junk, or made for another server key) is refused before any DH', () => {
    const other = generateKeyPair();
    const { crypto, dh } = countingCrypto();
    const client = new InitiatorMachine({ crypto, local: aliceKeys, serverPublicKey: other.publicKey, name: 'alice', path: [SERVER], reconnect: { minDelayMs: 1000, maxDelayMs: 60_000 } });
    const server = new ServerMachine({ crypto, local: serverKeys, replayGuard: new TimestampGuard(), names: [SERVER], authorize: () => ({ ok: true, lease: LEASE }) });
    const pipe = new Pipe([client, server]);
    const answers: Uint8Array[] = [];
    pipe.tamper = (_l, right, frame) => (right || answers.push(frame.slice()), frame);
    pipe.event(0, { type: 'start' });
    assert.equal(server.closeCode, CloseCode.AUTHENTICATION_FAILURE);
    assert.match(server.closeReason, /mac1/);
    assert.deepEqual(parseClose(answers[0]!), { status: CloseCode.AUTHENTICATION_FAILURE, reason: 'authentication failure' });
    assert.equal(dh.reads, 0);
  });

  it('over the source budget (busy): refused before any DH, and the client retries', () => {
    const { pipe, dh } = makePipe({ admit: () => 'busy' });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.nodes[serverIndex(pipe)]!.closeCode, CloseCode.BUSY);
    assert.equal(dh.reads, 0);
    assert.ok(pipe.actions[0]!.some((a) => a.type === 'reconnect'), 'BUSY is retried');
  });
});
