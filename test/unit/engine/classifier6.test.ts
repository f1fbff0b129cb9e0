import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifierConfigFromLease, FrameClassifier, Verdict, VERDICT_NAMES } from '../../../src/engine/classifier.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { EtherType } from '../../../src/wire/ethernet.js';
import { ipv6ToBytes } from '../../../src/wire/addr6.js';
import { macToBytes } from '../../../src/wire/addr.js';
import { TEST_LEASE, TEST_LEASE6 } from '../../support/lease.js';
import { DAD_NS_FRAME, NS_FRAME, RS_FRAME, ECHO6_FRAME } from '../wire/fixtures6.js';
import { echo6Frame, ndpFrame } from './frames6.js';

const GW = DEFAULT_GATEWAY_MAC;
const HOST = 'fd74:7670:6e00:2::5';

function classifier(lease: Lease = TEST_LEASE6, forwarding = false): FrameClassifier {
  return new FrameClassifier(classifierConfigFromLease(lease, forwarding));
}

function classify(frame: Uint8Array, lease: Lease = TEST_LEASE6, forwarding = false): string {
  const c = classifier(lease, forwarding);
  const verdict = c.classify(frame);
  return verdict === Verdict.DROP ? `drop:${c.result.reason}` : VERDICT_NAMES[verdict];
}

test('an IPv4-only lease drops every IPv6 frame as before, NDP included', () => {
  for (const frame of [RS_FRAME, NS_FRAME, echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1' })]) {
    assert.equal(classify(frame, TEST_LEASE), 'drop:ipv6');
  }
});

test('the captured RS, NS and DAD probe (multicast destinations) and a unicast NUD probe go to the NDP emulator', () => {
  for (const frame of [RS_FRAME, NS_FRAME, DAD_NS_FRAME]) assert.equal(classify(frame), 'local-ndp');
  const nud = ndpFrame({ kind: 'neighbor-solicitation', target: ipv6ToBytes('fe80::74:76ff:fe70:6e01'), options: [] }, HOST, 'fe80::74:76ff:fe70:6e01', GW);
  assert.equal(classify(nud), 'local-ndp');
});

test('from the client prefix to the server, another client or a pushed network: tunnel, with EtherType and bounds', () => {
  for (const dst of ['fd74:7670:6e00::1', 'fd74:7670:6e00:3::9', '2001:db8:99::10']) {
    const frame = echo6Frame({ dstMac: GW, src: HOST, dst });
    const c = classifier();
    assert.equal(c.classify(frame), Verdict.TUNNEL, dst);
    assert.deepEqual([c.result.etherType, c.result.datagramStart, c.result.datagramEnd], [EtherType.IPV6, 14, frame.length]);
  }
});

test('Ethernet padding is not part of the datagram', () => {
  const frame = echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1' });
  const padded = new Uint8Array(frame.length + 6);
  padded.set(frame);
  const c = classifier();
  assert.equal(c.classify(padded), Verdict.TUNNEL);
  assert.equal(c.result.datagramEnd, frame.length);
});

test('the source check: only the client prefix, unless the host forwards', () => {
  const spoofed = echo6Frame({ dstMac: GW, src: 'fd74:7670:6e00:3::5', dst: 'fd74:7670:6e00::1' });
  assert.equal(classify(spoofed), 'drop:source-not-lease');
  assert.equal(classify(echo6Frame({ dstMac: GW, src: 'fe80::5eff:fe10:1', dst: 'fd74:7670:6e00::1' })), 'drop:source-not-lease');
  assert.equal(classify(spoofed, TEST_LEASE6, true), 'tunnel');
});

test('destinations outside the tunnel, link-local ones and multicast stay on the host', () => {
  assert.equal(classify(echo6Frame({ dstMac: GW, src: HOST, dst: '2001:db8:1::1' })), 'drop:no-route');
  assert.equal(classify(echo6Frame({ dstMac: GW, src: HOST, dst: 'fe80::74:76ff:fe70:6e01' })), 'drop:no-route');
  assert.equal(classify(echo6Frame({ dstMac: '33:33:00:00:00:16', src: HOST, dst: 'ff02::16' })), 'drop:multicast');
  assert.equal(classify(echo6Frame({ dstMac: GW, src: HOST, dst: 'ff05::2' })), 'drop:multicast');
  assert.equal(classify(echo6Frame({ dstMac: '02:00:5e:00:00:99', src: HOST, dst: 'fd74:7670:6e00::1' })), 'drop:not-for-us');
});

test('over the MTU (1400) is too-big, with the bounds set for the Packet Too Big answer; at the MTU is fine', () => {
  const c = classifier();
  const big = echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1', dataLength: 1400 - 48 + 1 });
  assert.equal(c.classify(big), Verdict.DROP);
  assert.deepEqual([c.result.reason, c.result.etherType, c.result.datagramEnd - c.result.datagramStart], ['too-big', EtherType.IPV6, 1401]);
  assert.equal(classify(echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1', dataLength: 1400 - 48 })), 'tunnel');
});

test('malformed IPv6 is counted with the codec\'s code', () => {
  assert.equal(classify(ECHO6_FRAME.subarray(0, 50)), 'drop:malformed:TRUNCATED');
  const v4 = ECHO6_FRAME.slice();
  v4[14] = 0x45;
  assert.equal(classify(v4), 'drop:malformed:BAD_VALUE');
});

test('property: random IPv6 frames get a verdict, never an exception, and bounds inside the frame', () => {
  const c = classifier();
  const header = new Uint8Array(14);
  header.set(macToBytes(GW));
  header[12] = 0x86;
  header[13] = 0xdd;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, versioned) => {
      const frame = new Uint8Array(14 + body.length);
      frame.set(header);
      frame.set(body, 14);
      if (versioned && body.length > 0) frame[14] = 0x60 | (body[0]! & 0x0f);
      const verdict = c.classify(frame);
      if (verdict !== Verdict.DROP) assert.ok(c.result.datagramEnd <= frame.length);
      else assert.ok(c.result.reason);
    }),
  );
});
