/**
 * The IPv6 pool: each client's /64 numbered by its IPv4 host part, the
 * config rules for [tunnel] network6, and the lease the policy hands out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfigText } from '../../../src/config/load.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import { encodeLease, decodeLease } from '../../../src/protocol/frames/index.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { ipv6PoolOf, leasePoolOf, ServerPolicy } from '../../../src/server/policy.js';
import { gateway6Of, ipv6LeaseFor, subnetFor, type Ipv6PoolConfig } from '../../../src/server/pool6.js';
import { numberToIpv4 } from '../../../src/wire/addr.js';

const POOL: Ipv6PoolConfig = {
  network6: { prefix: 'fd74:7670:6e00::', prefixLength: 48 },
  network4: { address: '10.77.0.0', prefixLength: 24 },
  gateway4: '10.77.0.1',
  routes6: [{ prefix: '2001:db8:99::', prefixLength: 48 }],
  dns6: ['fd74:7670:6e00:1::1'],
};

test('each IPv4 host part numbers a /64; the server has ::1 in the gateway\'s subnet', () => {
  assert.deepEqual(subnetFor(POOL, '10.77.0.7'), { prefix: 'fd74:7670:6e00:7::', prefixLength: 64 });
  assert.deepEqual(subnetFor(POOL, '10.77.0.255'), { prefix: 'fd74:7670:6e00:ff::', prefixLength: 64 });
  assert.equal(gateway6Of(POOL), 'fd74:7670:6e00:1::1');
  const wide: Ipv6PoolConfig = { ...POOL, network6: { prefix: 'fd00::', prefixLength: 32 }, network4: { address: '10.0.0.0', prefixLength: 8 }, gateway4: '10.0.0.1' };
  assert.deepEqual(subnetFor(wide, '10.1.2.3'), { prefix: 'fd00:0:1:203::', prefixLength: 64 });
  assert.throws(() => subnetFor(POOL, '10.78.0.7'), RangeError);
});

test('property: distinct IPv4 addresses get distinct /64s, all inside network6 and never the server\'s', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 254 }), fc.integer({ min: 2, max: 254 }), (a, b) => {
      fc.pre(a !== b);
      const pa = subnetFor(POOL, numberToIpv4(0x0a4d0000 + a)).prefix;
      const pb = subnetFor(POOL, numberToIpv4(0x0a4d0000 + b)).prefix;
      assert.notEqual(pa, pb);
      assert.ok(pa.startsWith('fd74:7670:6e00:'));
      assert.notEqual(pa, 'fd74:7670:6e00:1::');
    }),
  );
});

test('a client\'s IPv6 lease encodes (its gateway is outside its prefix) and carries routes and DNS', () => {
  const ipv6 = ipv6LeaseFor(POOL, '10.77.0.9');
  assert.deepEqual(ipv6, {
    clientPrefix: { prefix: 'fd74:7670:6e00:9::', prefixLength: 64 },
    network: { prefix: 'fd74:7670:6e00::', prefixLength: 48 },
    gateway: 'fd74:7670:6e00:1::1',
    routes: [{ prefix: '2001:db8:99::', prefixLength: 48 }],
    dnsServers: ['fd74:7670:6e00:1::1'],
  });
});

function config(tunnelExtra: string, listen = '') {
  const key = encodeKey(generateKeyPair().publicKey);
  const text = `private_key_file = "/k"\n${listen}[tunnel]\nnetwork = "10.77.0.0/24"\n${tunnelExtra}[[clients]]\nname = "alice"\npublic_key = "${key}"\n`;
  return parseConfigText(serverConfigSchema, text, 'server.toml');
}

test('config: network6, routes6 and dns6 are read canonical; the policy\'s lease carries them and survives the wire', async () => {
  const parsed = config('network6 = "FD74:7670:6E00::/48"\nroutes6 = ["2001:db8:99:0::/48"]\ndns6 = ["fd74:7670:6e00:1:0:0:0:1"]\n');
  assert.deepEqual(parsed.tunnel.network6, { address: 'fd74:7670:6e00::', prefixLength: 48 });
  assert.deepEqual(ipv6PoolOf(parsed), POOL);
  const policy = new ServerPolicy(parsed, await LeaseStore.open(leasePoolOf(parsed), undefined));
  const lease = policy.leaseFor('10.77.0.2');
  assert.equal(lease.ipv6?.clientPrefix.prefix, 'fd74:7670:6e00:2::');
  assert.deepEqual(decodeLease(encodeLease(lease)), lease);
  assert.equal(policy.leaseFor('10.77.0.2').ipv6 !== undefined, true);
  assert.equal(new ServerPolicy(config(''), await LeaseStore.open(leasePoolOf(config('')), undefined)).leaseFor('10.77.0.2').ipv6, undefined, 'no network6: IPv4 only');
});

test('config: a network6 without room for a /64 per IPv4 address, host bits, bad text', () => {
  assert.throws(() => config('network6 = "fd74:7670:6e00::/57"\n'), /tunnel\.network6: expected room for a \/64 per address of the \/24 tunnel network \(a \/56 or shorter\)/);
  assert.throws(() => config('network6 = "fd74:7670:6e00::/96"\n'), /expected a prefix of \/64 or shorter/);
  assert.throws(() => config('network6 = "fd74:7670:6e00::1/48"\n'), /host bits zero/);
  assert.throws(() => config('network6 = "fd74::7670::/48"\n'), /expected an IPv6 network/);
  assert.throws(() => config('dns6 = ["10.0.0.1"]\n'), /expected an IPv6 address/);
});

test('config: the server listens on IPv6 or dual-stack "::"', () => {
  assert.equal(config('', '[listen]\naddress = "::"\n').listen.address, '::');
  assert.equal(config('', '[listen]\naddress = "fd00::5"\n').listen.address, 'fd00::5');
  assert.throws(() => config('', '[listen]\naddress = "fd00:::5"\n'), /expected an IPv4 or IPv6 address/);
});
