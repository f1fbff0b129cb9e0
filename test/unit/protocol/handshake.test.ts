/**
 * Initiator ↔ (relays ↔) server over the in-memory pipe: the full handshake,
 * datagrams both ways, in-band rekey, keepalives, and the failures the issue
 * names — tamper, replay, reorder (integrity failure), unknown client
 * (authentication failure), wrong server key, rewritten path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode, FrameType } from '../../../src/protocol/frames/index.js';
import type { RelayMachine } from '../../../src/protocol/machines/relay.js';
import { FakeTimestampGuard, fakeKeyPair } from './fake-crypto.js';
import { LEASE, SERVER, makePipe } from './setup.js';
import { hex } from './fixtures.js';
import { GsoType } from '../../../src/wire/gso.js';

const datagram = Uint8Array.from({ length: 60 }, (_, i) => i);

describe('handshake and tunnel over an in-memory pipe', () => {
  it('authorizes both ends and carries datagrams both ways', () => {
    const pipe = makePipe();
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.client.state, 'authorized');
    assert.equal(pipe.server.state, 'authorized');
    assert.deepEqual(pipe.client.history.map((t) => t.to), ['tcp-open', 'send-relay', 'connect', 'response-wait', 'authorized']);
    assert.deepEqual(pipe.server.history.map((t) => t.to), ['receive-relay', 'connect-wait', 'authorize', 'authorized']);
    const clientAuth = pipe.actions[0]!.find((a) => a.type === 'authorized');
    const serverAuth = pipe.actions[1]!.find((a) => a.type === 'authorized');
    assert.ok(clientAuth?.type === 'authorized' && serverAuth?.type === 'authorized');
    assert.deepEqual(clientAuth.info.lease, LEASE);
    assert.equal(clientAuth.info.suite, 'chacha20-poly1305');
    assert.equal(clientAuth.info.inBandRekey, true);
    assert.equal(serverAuth.info.peerName, 'alice');
    assert.deepEqual(serverAuth.info.policy, { tag: 'p' });
    assert.ok(pipe.sendDatagram(0, 0x0800, datagram) > 0);
    assert.ok(pipe.sendDatagram(1, 0x86dd, datagram.subarray(5)) > 0);
    assert.deepEqual(pipe.delivered[1]!.map((d) => [d.etherType, hex(d.datagram)]), [[0x0800, hex(datagram)]]);
    assert.deepEqual(pipe.delivered[0]!.map((d) => [d.etherType, hex(d.datagram)]), [[0x86dd, hex(datagram.subarray(5))]]);
  });

  it('works through two relays that find their own names', () => {
    const pipe = makePipe({ relays: ['r1.example:443', 'r2.example:443'] });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.client.state, 'authorized');
    assert.equal((pipe.nodes[1] as RelayMachine).state, 'forward');
    assert.equal((pipe.nodes[2] as RelayMachine).nextHop, SERVER);
    for (let i = 0; i < 5; i++) pipe.sendDatagram(0, 0x0800, datagram);
    pipe.sendDatagram(3, 0x0800, datagram);
    assert.equal(pipe.delivered[3]!.length, 5);
    assert.equal(pipe.delivered[0]!.length, 1);
    pipe.event(0, { type: 'closeRequested' });
    assert.equal(pipe.server.closeCode, CloseCode.NORMAL);
    assert.equal(pipe.client.state, 'dead');
    assert.equal(pipe.server.state, 'dead');
    assert.equal((pipe.nodes[1] as RelayMachine).state, 'dead');
  });

  it('chooses the server\'s preferred suite among those offered', () => {
    const pipe = makePipe({ client: { suites: ['chacha20-hmac-sha256', 'aes-256-gcm'] }, server: { suites: ['aes-256-gcm', 'chacha20-hmac-sha256'] } });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.client.session?.suite, 'aes-256-gcm');
    const none = makePipe({ client: { suites: ['chacha20-hmac-sha256'] }, server: { suites: ['aes-256-gcm'] } });
    none.event(0, { type: 'start' });
    assert.equal(none.closes(1)[0]?.code, CloseCode.NO_COMMON_SUITE);
    assert.equal(none.closes(0)[0]?.code, CloseCode.NO_COMMON_SUITE);
    assert.equal(none.closes(0)[0]?.by, 'peer');
  });

  it('an unknown client gets a plain CLOSE AUTHENTICATION_FAILURE (no sealed RESPONSE) and retries; its app gives up after a few (ReconnectPolicy)', () => {
    const pipe = makePipe({ client: { name: 'mallory' } });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.server.closeCode, CloseCode.AUTHENTICATION_FAILURE);
    assert.equal(pipe.client.closeCode, CloseCode.AUTHENTICATION_FAILURE);
    assert.equal(pipe.closes(0)[0]?.by, 'network', 'not authenticated: a plain CLOSE');
    assert.ok(pipe.actions[0]!.some((a) => a.type === 'reconnect'));
  });

  it('a client pinning the wrong server key fails authentication', () => {
    const pipe = makePipe({ client: { serverPublicKey: fakeKeyPair('impostor').publicKey } });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.server.closeCode, CloseCode.AUTHENTICATION_FAILURE);
    assert.equal(pipe.client.closeCode, CloseCode.AUTHENTICATION_FAILURE);
  });

  it('a tampered RESPONSE is refused by the client (AUTHENTICATION_FAILURE)', () => {
    const pipe = makePipe();
    pipe.tamper = (_link, towardRight, frame) => {
      if (!towardRight && frame[4] === FrameType.RESPONSE) {
        const f = frame.slice();
        f[f.length - 1]! ^= 1;
        return f;
      }
      return frame;
    };
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.client.closeCode, CloseCode.AUTHENTICATION_FAILURE);
    assert.equal(pipe.client.closeReason.includes('authenticate'), true);
  });

  it('a rewritten path breaks the handshake (the prologue binds RELAY)', () => {
    const pipe = makePipe();
    pipe.tamper = (_l, right, frame) => {
      if (right && frame[4] === FrameType.RELAY) {
        const f = frame.slice();
        f[14] = 0x41; // origin name "alice" → "Alice"
        return f;
      }
      return frame;
    };
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.server.closeCode, CloseCode.AUTHENTICATION_FAILURE);
  });

  it('a replayed REQUEST is refused', () => {
    const guard = new FakeTimestampGuard();
    const first = makePipe({ server: { replayGuard: guard } });
    const recorded = new Map<number, Uint8Array>(); // RELAY and REQUEST: the prologue binds the one into the other
    first.tamper = (_l, right, frame) => {
      if (right && (frame[4] === FrameType.RELAY || frame[4] === FrameType.REQUEST)) recorded.set(frame[4], frame.slice());
      return frame;
    };
    first.event(0, { type: 'start' });
    assert.equal(first.server.state, 'authorized');
    const replay = makePipe({ server: { replayGuard: guard } });
    replay.tamper = (_l, right, frame) => (right ? (recorded.get(frame[4]!) ?? frame) : frame);
    replay.event(0, { type: 'start' });
    assert.equal(replay.server.closeCode, CloseCode.STALE_TIMESTAMP, 'refused inside a RESPONSE only the recorded REQUEST\'s sender can open');
    assert.match(replay.server.closeReason, /replay/);
    assert.notEqual(replay.client.state, 'authorized');
  });

  it('tampering with any bit of a DATA frame after the common header closes INTEGRITY_FAILURE', () => {
    const probe = makePipe();
    probe.event(0, { type: 'start' });
    const frameLength = probe.client.session!.maxSealedLength(datagram.length) - (8 + 16);
    for (let bit = 48; bit < frameLength * 8; bit += 7) {
      const pipe = makePipe();
      pipe.event(0, { type: 'start' });
      pipe.tamper = (_l, right, frame) => {
        if (!right || frame[4] !== FrameType.DATA) return frame;
        const f = frame.slice();
        f[bit >> 3]! ^= 1 << (bit & 7);
        return f;
      };
      pipe.sendDatagram(0, 0x0800, datagram);
      assert.equal(pipe.server.closeCode, CloseCode.INTEGRITY_FAILURE, `bit ${bit}`);
      assert.equal(pipe.delivered[1]!.length, 0);
      assert.equal(pipe.client.closeCode, CloseCode.INTEGRITY_FAILURE); // told by the server's CLOSE
      assert.ok(pipe.actions[0]!.some((a) => a.type === 'reconnect'));
    }
  });

  it('a replayed or reordered DATA frame closes INTEGRITY_FAILURE after delivering only the valid ones', () => {
    for (const mode of ['replay', 'reorder'] as const) {
      const pipe = makePipe();
      pipe.event(0, { type: 'start' });
      let held: Uint8Array | undefined;
      pipe.tamper = (_l, right, frame) => {
        if (!right || frame[4] !== FrameType.DATA) return frame;
        if (mode === 'replay') {
          if (held) return held;
          held = frame.slice();
          return frame;
        }
        if (!held) {
          held = frame.slice();
          return undefined; // hold the first back, deliver it after the second
        }
        pipe.tamper = undefined;
        return frame;
      };
      pipe.sendDatagram(0, 0x0800, datagram);
      pipe.sendDatagram(0, 0x0800, datagram.subarray(1));
      if (mode === 'reorder') assert.equal(pipe.delivered[1]!.length, 0);
      else assert.equal(pipe.delivered[1]!.length, 1);
      assert.equal(pipe.server.closeCode, CloseCode.INTEGRITY_FAILURE, mode);
    }
  });

  it('rekeys in band on ticks and under load without dropping the connection', () => {
    const pipe = makePipe({ client: { lifetime: { maxFrames: 4, maxAgeMs: 60_000 } }, server: { lifetime: { maxFrames: 4, maxAgeMs: 60_000 } } });
    pipe.event(0, { type: 'start' });
    for (let i = 0; i < 20; i++) {
      pipe.sendDatagram(0, 0x0800, datagram);
      pipe.sendDatagram(1, 0x0800, datagram);
    }
    for (let t = 10_000; t <= 61_000; t += 10_000) pipe.tick(t); // keepalives; past 60 s both sides send REKEY
    pipe.tick(61_000);
    pipe.sendDatagram(0, 0x0800, datagram);
    assert.equal(pipe.client.state, 'authorized');
    assert.equal(pipe.delivered[1]!.length, 21);
    assert.equal(pipe.delivered[0]!.length, 20);
    assert.ok(pipe.client.session!.sendKeyId >= 5);
    assert.equal(pipe.server.session!.receiveKeyId, pipe.client.session!.sendKeyId);
    assert.equal(pipe.client.session!.receiveKeyId, pipe.server.session!.sendKeyId);
  });

  it('without in-band rekey the initiator reconnects at key expiry (CLOSE KEY_EXPIRED, reconnect 0 ms)', () => {
    const pipe = makePipe({ client: { inBandRekey: false, lifetime: { maxAgeMs: 1000 } } });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.client.session!.inBandRekey, false);
    pipe.tick(1000);
    assert.equal(pipe.server.closeCode, CloseCode.KEY_EXPIRED);
    assert.ok(pipe.client.history.some((t) => t.to === 'reconnect'));
    assert.deepEqual(pipe.actions[0]!.filter((a) => a.type === 'reconnect'), [{ type: 'reconnect', delayMs: 0 }]);
    assert.equal(pipe.client.state, 'dead');
  });

  it('keepalives flow when idle, and a silent peer is closed with TIMEOUT', () => {
    const pipe = makePipe({ client: { timing: { keepaliveIntervalMs: 1000, deadPeerTimeoutMs: 3500 } }, server: { timing: { keepaliveIntervalMs: 1000, deadPeerTimeoutMs: 3500 } } });
    pipe.event(0, { type: 'start' });
    for (let t = 1000; t <= 10_000; t += 1000) pipe.tick(t);
    assert.equal(pipe.client.state, 'authorized');
    assert.ok(pipe.client.session!.stats.framesReceived >= 9);
    pipe.tamper = () => undefined; // the link goes silent both ways (no FIN)
    for (let t = 11_000; t <= 15_000; t += 1000) pipe.tick(t);
    assert.equal(pipe.server.closeCode, CloseCode.TIMEOUT);
  });
});

describe('OFFLOAD: TCP super-frames in DATA', () => {
  // A 3000-byte TCP payload behind IPv4 and TCP headers, as the host's stack hands it to a TAP with TSO.
  const superFrame = (() => {
    const d = new Uint8Array(20 + 20 + 3000);
    d.set([0x45, 0, (d.length >> 8) & 0xff, d.length & 0xff, 0, 1, 0x40, 0, 64, 6], 0);
    d.set([10, 77, 0, 7, 10, 77, 0, 1], 12);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (d[i]! << 8) | d[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    d[10] = (~sum >> 8) & 0xff;
    d[11] = ~sum & 0xff;
    d[32] = 5 << 4;
    d[33] = 0x18; // PSH ACK
    for (let i = 40; i < d.length; i++) d[i] = i & 0xff;
    return d;
  })();
  const gso = { flags: 1, gsoType: GsoType.TCPV4, hdrLen: 40, gsoSize: 1000, csumStart: 20, csumOffset: 16 };

  it('is on only when the client offers it and the server accepts it', () => {
    for (const [client, server, on] of [[true, true, true], [true, false, false], [false, true, false], [false, false, false]] as const) {
      const pipe = makePipe({ client: { offload: client }, server: { offload: server } });
      pipe.event(0, { type: 'start' });
      assert.equal(pipe.client.session!.offload, on, `client ${client}, server ${server}`);
      assert.equal(pipe.server.session!.offload, on);
      const auth = pipe.actions[0]!.find((a) => a.type === 'authorized');
      assert.ok(auth?.type === 'authorized' && auth.info.offload === on);
    }
  });

  it('carries a super-frame whole with its descriptor when negotiated, both ways', () => {
    const pipe = makePipe({ client: { offload: true }, server: { offload: true } });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.sendDatagram(0, 0x0800, superFrame, gso), 1);
    assert.equal(pipe.sendDatagram(1, 0x0800, superFrame, gso), 1);
    for (const side of [0, 1]) {
      assert.equal(pipe.delivered[side]!.length, 1);
      assert.equal(hex(pipe.delivered[side]![0]!.datagram), hex(superFrame));
      assert.deepEqual(pipe.delivered[side]![0]!.gso, gso);
    }
    assert.equal(pipe.sendDatagram(0, 0x0800, datagram), 1);
    assert.equal(pipe.delivered[1]![1]!.gso, undefined, 'a plain datagram stays plain');
  });

  it('segments a super-frame for a peer that did not negotiate it, as the kernel would', () => {
    const pipe = makePipe({ client: { offload: true }, server: { offload: false } });
    pipe.event(0, { type: 'start' });
    assert.equal(pipe.sendDatagram(0, 0x0800, superFrame, gso), 1);
    const got = pipe.delivered[1]!;
    assert.deepEqual(got.map((d) => [d.datagram.length, d.gso]), [[1040, undefined], [1040, undefined], [1040, undefined]]);
    assert.deepEqual(got.map((d) => d.datagram[33]), [0x10, 0x10, 0x18], 'PSH on the last segment only');
    assert.equal(got.map((d) => hex(d.datagram.subarray(40))).join(''), hex(superFrame.subarray(40)));
    assert.equal(pipe.client.closeCode, undefined);
  });

  it('a DATA frame flagged OFFLOAD on a tunnel without it closes the tunnel', () => {
    const pipe = makePipe({ client: { offload: true }, server: { offload: true } });
    pipe.event(0, { type: 'start' });
    // Force the server side to believe OFFLOAD is off: its session was built with it on, so flip the receiver's view.
    Object.defineProperty(pipe.server.session!, 'offload', { value: false });
    pipe.sendDatagram(0, 0x0800, superFrame, gso);
    assert.equal(pipe.delivered[1]!.length, 0);
    assert.notEqual(pipe.server.closeCode, undefined);
  });
});
