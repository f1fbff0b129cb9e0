import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifierConfigFromLease, FrameClassifier, Verdict, VERDICT_NAMES } from '../../../src/engine/classifier.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { arpRequestFrame, ipv4Frame } from './frames.js';
import { ARP_REQUEST_FRAME, ICMP_ECHO_FRAME } from '../wire/fixtures.js';
import { TEST_LEASE } from '../../support/lease.js';

const lease: Lease = { ...TEST_LEASE };
const GW = DEFAULT_GATEWAY_MAC;
const BCAST = 'ff:ff:ff:ff:ff:ff';
const DHCP_PORTS = { sourcePort: 68, destinationPort: 67 };

function classify(frame: Uint8Array): string {
  const classifier = new FrameClassifier(classifierConfigFromLease(lease));
  const verdict = classifier.classify(frame);
  return verdict === Verdict.DROP ? `drop:${classifier.result.reason}` : VERDICT_NAMES[verdict];
}

test('ARP frames go to the ARP emulator', () => {
  assert.equal(classify(arpRequestFrame('10.77.0.2', '10.77.0.1')), 'local-arp');
  assert.equal(classify(ARP_REQUEST_FRAME), 'local-arp');
});

test('DHCP from port 68 to 67, broadcast or unicast to the gateway, is local', () => {
  assert.equal(classify(ipv4Frame({ dstMac: BCAST, src: '0.0.0.0', dst: '255.255.255.255', udp: DHCP_PORTS })), 'local-dhcp');
  assert.equal(classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '10.77.0.1', udp: DHCP_PORTS })), 'local-dhcp');
});

test('DHCP-looking traffic that is not to us is not local', () => {
  assert.equal(classify(ipv4Frame({ dstMac: BCAST, src: '0.0.0.0', dst: '255.255.255.255', udp: { sourcePort: 68, destinationPort: 68 } })), 'drop:broadcast-not-dhcp');
  assert.equal(classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '10.77.0.9', udp: DHCP_PORTS })), 'tunnel');
  assert.equal(classify(ipv4Frame({ dstMac: BCAST, src: '0.0.0.0', dst: '255.255.255.255', udp: DHCP_PORTS, moreFragments: true })), 'drop:broadcast-not-dhcp');
});

test('unicast IPv4 to the gateway, the subnet and routed networks goes to the tunnel, Ethernet header and padding removed', () => {
  const classifier = new FrameClassifier(classifierConfigFromLease(lease));
  for (const dst of ['10.77.0.1', '10.77.0.200', '172.31.99.10']) {
    const frame = ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst, padding: 6 });
    assert.equal(classifier.classify(frame), Verdict.TUNNEL, dst);
    const { datagramStart, datagramEnd } = classifier.result;
    assert.deepEqual([datagramStart, datagramEnd], [14, frame.length - 6]);
    assert.equal(frame[datagramStart], 0x45);
  }
});

test('fragments are forwarded to the tunnel and flagged', () => {
  const classifier = new FrameClassifier(classifierConfigFromLease(lease));
  assert.equal(classifier.classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '172.31.99.10', moreFragments: true })), Verdict.TUNNEL);
  assert.equal(classifier.result.fragment, true);
});

test('drops with reasons: unknown destination, spoofed source, wrong MAC, too big, broadcast, multicast', () => {
  assert.equal(classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '8.8.8.8' })), 'drop:no-route');
  assert.equal(classify(ipv4Frame({ dstMac: GW, src: '10.77.0.3', dst: '10.77.0.1' })), 'drop:source-not-lease');
  assert.equal(classify(ipv4Frame({ dstMac: '02:00:00:00:00:99', src: '10.77.0.2', dst: '10.77.0.1' })), 'drop:not-for-us');
  assert.equal(classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '10.77.0.1', payload: new Uint8Array(1400 - 28 + 1) })), 'drop:too-big');
  assert.equal(classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '10.77.0.1', payload: new Uint8Array(1400 - 28) })), 'tunnel');
  assert.equal(classify(ipv4Frame({ dstMac: BCAST, src: '10.77.0.2', dst: '10.77.0.255' })), 'drop:broadcast-not-dhcp');
  assert.equal(classify(ipv4Frame({ dstMac: '01:00:5e:00:00:fb', src: '10.77.0.2', dst: '224.0.0.251', udp: { sourcePort: 5353, destinationPort: 5353 } })), 'drop:multicast');
});

test('non-IPv4 EtherTypes, VLAN, 802.3 and malformed frames are dropped with their reason', () => {
  const ipv6 = ICMP_ECHO_FRAME.slice();
  ipv6[12] = 0x86;
  ipv6[13] = 0xdd;
  assert.equal(classify(ipv6), 'drop:ipv6');
  const vlan = ICMP_ECHO_FRAME.slice();
  vlan[12] = 0x81;
  vlan[13] = 0x00;
  assert.equal(classify(vlan), 'drop:vlan');
  const ieee8023 = ICMP_ECHO_FRAME.slice();
  ieee8023[12] = 0x00;
  ieee8023[13] = 0x2c;
  assert.equal(classify(ieee8023), 'drop:not-ethernet-ii');
  const lldp = ICMP_ECHO_FRAME.slice();
  lldp[12] = 0x88;
  lldp[13] = 0xcc;
  assert.equal(classify(lldp), 'drop:not-ipv4');
  assert.equal(classify(ICMP_ECHO_FRAME.subarray(0, 10)), 'drop:malformed:TRUNCATED');
  assert.equal(classify(ICMP_ECHO_FRAME.subarray(0, 40)), 'drop:malformed:TRUNCATED');
  const badChecksum = ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '10.77.0.1' });
  badChecksum[24] = badChecksum[24]! ^ 1;
  assert.equal(classify(badChecksum), 'drop:malformed:BAD_CHECKSUM');
});

test('the result object is reused: classify allocates no new result', () => {
  const classifier = new FrameClassifier(classifierConfigFromLease(lease));
  const result = classifier.result;
  classifier.classify(ipv4Frame({ dstMac: GW, src: '10.77.0.2', dst: '10.77.0.1' }));
  classifier.classify(ARP_REQUEST_FRAME);
  assert.equal(classifier.result, result);
  assert.equal(result.reason, undefined, 'a previous drop reason does not leak into the next verdict');
});

test('property: random bytes never throw and always get a verdict', () => {
  const classifier = new FrameClassifier(classifierConfigFromLease(lease));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      const verdict = classifier.classify(bytes);
      assert.ok(verdict >= 0 && verdict <= 3);
      if (verdict === Verdict.DROP) assert.ok(classifier.result.reason);
      if (verdict === Verdict.TUNNEL) assert.ok(classifier.result.datagramEnd <= bytes.length);
    }),
  );
});

test('setConfig follows a new lease', () => {
  const classifier = new FrameClassifier(classifierConfigFromLease(lease));
  classifier.setConfig(classifierConfigFromLease({ ...lease, address: '10.77.0.3' }));
  assert.equal(classifier.classify(ipv4Frame({ dstMac: GW, src: '10.77.0.3', dst: '10.77.0.1' })), Verdict.TUNNEL);
});
