import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { answerArp, ArpEmulator, clientArpConfig, compileArpConfig, forwardingArpConfig, type ArpVerdict } from '../../../emulators/arp.js';
import { ArpOperation, parseArp, type ArpRepr } from '../../../src/wire/arp.js';
import { ipv4ToNumber, macToBytes, bytesToMac } from '../../../src/wire/addr.js';
import { DEFAULT_CLIENT_MAC, DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { ARP_REQUEST_FRAME } from '../wire/fixtures.js';
import { TEST_LEASE } from '../../support/lease.js';

const HOST_MAC = '02:00:5e:10:00:01';
const lease: Lease = { ...TEST_LEASE };
const clientConfig = compileArpConfig(clientArpConfig(lease));

function request(spa: string, tpa: string, operation: ArpRepr['operation'] = ArpOperation.REQUEST): ArpRepr {
  return {
    operation,
    senderHardwareAddress: macToBytes(HOST_MAC),
    senderProtocolAddress: ipv4ToNumber(spa),
    targetHardwareAddress: new Uint8Array(6),
    targetProtocolAddress: ipv4ToNumber(tpa),
  };
}

function reasonOf(verdict: ArpVerdict): string {
  return verdict.kind === 'ignored' ? verdict.reason : 'reply';
}

test('answers a request for the gateway with the reserved MAC, addressed back to the asker', () => {
  const verdict = answerArp(request('10.77.0.2', '10.77.0.1'), clientConfig);
  assert.equal(verdict.kind, 'reply');
  if (verdict.kind !== 'reply') return;
  assert.equal(verdict.reply.operation, ArpOperation.REPLY);
  assert.equal(bytesToMac(verdict.reply.senderHardwareAddress), DEFAULT_GATEWAY_MAC);
  assert.equal(verdict.reply.senderProtocolAddress, ipv4ToNumber('10.77.0.1'));
  assert.equal(bytesToMac(verdict.reply.targetHardwareAddress), HOST_MAC);
  assert.equal(verdict.reply.targetProtocolAddress, ipv4ToNumber('10.77.0.2'));
});

test('answers for every other host address of the tunnel subnet', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 254 }), (host) => {
      fc.pre(host !== 2);
      assert.equal(reasonOf(answerArp(request('10.77.0.2', `10.77.0.${host}`), clientConfig)), 'reply');
    }),
  );
});

test('never answers for the client\'s own address (so DHCP conflict detection accepts the lease)', () => {
  assert.equal(reasonOf(answerArp(request('10.77.0.9', '10.77.0.2'), clientConfig)), 'own-address');
});

test('never answers probes (sender 0.0.0.0, RFC 5227), even for another tunnel address', () => {
  assert.equal(reasonOf(answerArp(request('0.0.0.0', '10.77.0.2'), clientConfig)), 'probe');
  assert.equal(reasonOf(answerArp(request('0.0.0.0', '10.77.0.1'), clientConfig)), 'probe');
});

test('absorbs gratuitous ARP (sender IP == target IP), requests and replies alike', () => {
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '10.77.0.2'), clientConfig)), 'gratuitous');
  assert.equal(reasonOf(answerArp(request('10.77.0.5', '10.77.0.5'), clientConfig)), 'gratuitous');
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '10.77.0.2', ArpOperation.REPLY), clientConfig)), 'not-request');
});

test('ignores replies, off-link addresses (routed destinations are not ARPed) and network/broadcast addresses', () => {
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '10.77.0.1', ArpOperation.REPLY), clientConfig)), 'not-request');
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '172.31.99.10'), clientConfig)), 'not-ours');
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '10.77.1.1'), clientConfig)), 'not-ours');
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '10.77.0.0'), clientConfig)), 'not-host-address');
  assert.equal(reasonOf(answerArp(request('10.77.0.2', '10.77.0.255'), clientConfig)), 'not-host-address');
});

test('server side: a configurable set of single addresses answered with the client MAC', () => {
  const serverConfig = compileArpConfig({
    replyMac: DEFAULT_CLIENT_MAC,
    answerFor: [{ address: '10.77.0.2', prefixLength: 32 }, { address: '10.77.0.3', prefixLength: 32 }],
    except: ['10.77.0.1'],
  });
  const verdict = answerArp(request('10.77.0.1', '10.77.0.3'), serverConfig);
  assert.equal(verdict.kind === 'reply' && bytesToMac(verdict.reply.senderHardwareAddress), DEFAULT_CLIENT_MAC);
  assert.equal(reasonOf(answerArp(request('10.77.0.1', '10.77.0.4'), serverConfig)), 'not-ours');
  assert.equal(reasonOf(answerArp(request('10.77.0.3', '10.77.0.1'), serverConfig)), 'own-address');
});

test('the emulator learns the host MAC from what it sees (probes included), and the captured request is not ours', () => {
  const emulator = new ArpEmulator(clientArpConfig(lease));
  assert.equal(emulator.hostMac, undefined);
  assert.equal(reasonOf(emulator.handle(parseArp(ARP_REQUEST_FRAME.subarray(14)))), 'not-ours');
  assert.equal(emulator.hostMac, '02:00:5e:10:00:01');
  const probe = { ...request('0.0.0.0', '10.77.0.2'), senderHardwareAddress: macToBytes('02:00:00:00:00:07') };
  emulator.handle(probe);
  assert.equal(emulator.hostMac, '02:00:00:00:00:07');
  emulator.handle({ ...probe, senderHardwareAddress: macToBytes('ff:ff:ff:ff:ff:ff') });
  assert.equal(emulator.hostMac, '02:00:00:00:00:07', 'a group MAC is never learned');
});

test('setConfig switches to a new lease', () => {
  const emulator = new ArpEmulator(clientArpConfig(lease));
  emulator.setConfig(clientArpConfig({ ...lease, address: '10.77.0.1', gateway: '10.77.0.254' }));
  assert.equal(reasonOf(emulator.handle(request('10.77.0.9', '10.77.0.2'))), 'reply');
  assert.equal(reasonOf(emulator.handle(request('10.77.0.9', '10.77.0.1'))), 'own-address');
});

test('a forwarding host (the server) also has the networks its lease routes answered: a branch LAN behind a client', () => {
  const server: Lease = { ...lease, address: '10.77.0.1', gateway: '10.77.0.1', gatewayMac: DEFAULT_CLIENT_MAC, routes: [{ destination: '10.20.0.0', prefixLength: 24, gateway: '10.77.0.1' }] };
  const forwarding = compileArpConfig(forwardingArpConfig(server));
  const verdict = answerArp(request('10.77.0.1', '10.20.0.5'), forwarding);
  assert.equal(reasonOf(verdict), 'reply');
  assert.equal(verdict.kind === 'reply' && bytesToMac(verdict.reply.senderHardwareAddress), DEFAULT_CLIENT_MAC);
  assert.equal(reasonOf(answerArp(request('10.77.0.1', '10.77.0.7'), forwarding)), 'reply', 'client addresses as before');
  assert.equal(reasonOf(answerArp(request('10.77.0.1', '10.20.0.255'), forwarding)), 'not-host-address');
  assert.equal(reasonOf(answerArp(request('10.77.0.1', '10.21.0.5'), forwarding)), 'not-ours');
  assert.equal(reasonOf(answerArp(request('10.77.0.1', '10.20.0.5'), compileArpConfig(clientArpConfig(server)))), 'not-ours', 'a client host does not');
});
