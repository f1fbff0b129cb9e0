/**
 * ServerPolicy.authorize: who may connect and what they get. An unknown
 * name and a wrong key get the same answer (no oracle for valid names); a
 * disabled client is refused by POLICY; an authorized one gets a lease with
 * routes via the gateway, DNS and MTU from the config; reload + stillAllowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfigText } from '../../../src/config/load.js';
import { serverConfigSchema, type ServerConfig } from '../../../src/config/schema.js';
import { encodeKey, generateKeyPair, type StaticKeyPair } from '../../../src/crypto/keys.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import type { AuthorizeRequest } from '../../../src/protocol/machines/server.js';
import { DEFAULT_GATEWAY_MAC } from '../../../src/lease.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf, ServerPolicy } from '../../../src/server/policy.js';

const alice = generateKeyPair();
const bob = generateKeyPair();
const carol = generateKeyPair();
const mallory = generateKeyPair();

interface ClientSpec {
  name: string;
  keys: StaticKeyPair;
  extra?: string;
}

function serverConfig(clients: ClientSpec[], top = ''): ServerConfig {
  const entries = clients.map((c) => `[[clients]]\nname = "${c.name}"\npublic_key = "${encodeKey(c.keys.publicKey)}"\n${c.extra ?? ''}`).join('\n');
  const text = `private_key_file = "/k"\nsuites = ["aes-256-gcm"]\n${top}[adapter]\nmtu = 1380\n[tunnel]\nnetwork = "10.77.0.0/24"\ngateway = "10.77.0.1"\nroutes = ["192.168.50.0/24", "0.0.0.0/0"]\ndns = ["192.168.50.53", "9.9.9.9"]\nsearch_domain = "corp.example.com"\nlease_time = 600\n${entries}`;
  return parseConfigText(serverConfigSchema, text, 'server.toml');
}

const CLIENTS: ClientSpec[] = [
  { name: 'alice', keys: alice },
  { name: 'bob', keys: bob, extra: 'enabled = false\n' },
  { name: 'carol', keys: carol, extra: 'fixed_address = "10.77.0.200"\nroutes = ["172.16.0.0/12"]\nclient_to_client = true\n' },
];

function request(name: string, keys: StaticKeyPair): AuthorizeRequest {
  return { name, publicKey: keys.publicKey, destination: 'vpn.example.net:5555', path: { origin: name, hops: ['vpn.example.net:5555'] }, clientData: new Uint8Array(0) };
}

async function setup(config = serverConfig(CLIENTS)): Promise<{ policy: ServerPolicy; leases: LeaseStore }> {
  const leases = await LeaseStore.open(leasePoolOf(config), undefined);
  return { policy: new ServerPolicy(config, leases), leases };
}

test('an unknown name and a wrong key get the same answer: AUTHENTICATION_FAILURE', async () => {
  const { policy, leases } = await setup();
  const unknown = policy.authorize(request('mallory', mallory));
  const wrongKey = policy.authorize(request('alice', mallory));
  const rightKeyOtherName = policy.authorize(request('alice', carol));
  assert.deepEqual(unknown, { ok: false, code: CloseCode.AUTHENTICATION_FAILURE, reason: 'unknown client or wrong key' });
  assert.deepEqual(wrongKey, unknown, 'no oracle: the answer does not tell a valid name from an invalid one');
  assert.deepEqual(rightKeyOtherName, unknown);
  assert.equal(leases.size, 0, 'no lease for a refused client');
});

test('a disabled client is refused with POLICY and gets no lease', async () => {
  const { policy, leases } = await setup();
  const result = policy.authorize(request('bob', bob));
  assert.equal(result.ok, false);
  assert.equal(result.ok === false && result.code, CloseCode.POLICY);
  assert.equal(leases.addressOf('bob'), undefined);
});

test('an authorized client gets a lease: routes via the gateway, DNS, search domain, MTU, lease time, suites', async () => {
  const { policy, leases } = await setup();
  const result = policy.authorize(request('alice', alice));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.lease, {
    address: '10.77.0.2',
    prefixLength: 24,
    gateway: '10.77.0.1',
    routes: [
      { destination: '192.168.50.0', prefixLength: 24, gateway: '10.77.0.1' },
      { destination: '0.0.0.0', prefixLength: 0, gateway: '10.77.0.1' },
    ],
    dnsServers: ['192.168.50.53', '9.9.9.9'],
    searchDomain: 'corp.example.com',
    mtu: 1380,
    leaseTimeSec: 600,
    gatewayMac: DEFAULT_GATEWAY_MAC,
  });
  assert.deepEqual(result.suites, ['aes-256-gcm']);
  assert.deepEqual(result.policy, { name: 'alice', clientToClient: false, routes: [{ address: '192.168.50.0', prefixLength: 24 }, { address: '0.0.0.0', prefixLength: 0 }] });
  assert.equal(leases.addressOf('alice'), '10.77.0.2');
  const again = policy.authorize(request('alice', alice));
  assert.ok(again.ok && again.lease.address === '10.77.0.2', 'the same address on reconnect');
});

test('per-client settings: fixed address, own routes, client_to_client override', async () => {
  const { policy } = await setup();
  const result = policy.authorize(request('carol', carol));
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.lease.address, '10.77.0.200');
  assert.deepEqual(result.lease.routes, [{ destination: '172.16.0.0', prefixLength: 12, gateway: '10.77.0.1' }]);
  assert.deepEqual(result.policy, { name: 'carol', clientToClient: true, routes: [{ address: '172.16.0.0', prefixLength: 12 }] });
});

test('top-level client_to_client applies to clients without their own setting', async () => {
  const { policy } = await setup(serverConfig([{ name: 'alice', keys: alice }], 'client_to_client = true\n'));
  const result = policy.authorize(request('alice', alice));
  assert.ok(result.ok && (result.policy as { clientToClient: boolean }).clientToClient);
});

test('an exhausted pool refuses with POLICY: why in the detail (our log), a generic reason for the client', async () => {
  const small = parseConfigText(
    serverConfigSchema,
    `private_key_file = "/k"\n[tunnel]\nnetwork = "10.77.0.0/30"\n[[clients]]\nname = "alice"\npublic_key = "${encodeKey(alice.publicKey)}"\n[[clients]]\nname = "carol"\npublic_key = "${encodeKey(carol.publicKey)}"\n`,
    'server.toml',
  );
  const { policy } = await setup(small);
  assert.ok(policy.authorize(request('alice', alice)).ok);
  const result = policy.authorize(request('carol', carol));
  assert.equal(result.ok, false);
  assert.ok(result.ok === false && result.code === CloseCode.POLICY && /no free address/.test(result.detail ?? ''), JSON.stringify(result));
  assert.ok(result.ok === false && result.reason === 'no address available for this client', JSON.stringify(result));
});

test('reload: stillAllowed follows the new config (removed, disabled, re-keyed, unchanged)', async () => {
  const { policy } = await setup();
  assert.ok(policy.stillAllowed('alice', alice.publicKey));
  assert.ok(!policy.stillAllowed('bob', bob.publicKey), 'disabled');
  assert.ok(!policy.stillAllowed('mallory', mallory.publicKey), 'unknown');
  assert.ok(!policy.stillAllowed('alice', carol.publicKey), 'wrong key');
  policy.reload(serverConfig([{ name: 'alice', keys: mallory }, { name: 'bob', keys: bob }, { name: 'carol', keys: carol, extra: 'enabled = false\n' }]));
  assert.ok(!policy.stillAllowed('alice', alice.publicKey), 're-keyed: the old key is out');
  assert.ok(policy.stillAllowed('alice', mallory.publicKey));
  assert.ok(policy.stillAllowed('bob', bob.publicKey), 're-enabled');
  assert.ok(!policy.stillAllowed('carol', carol.publicKey), 'disabled by the reload');
  assert.ok(policy.authorize(request('bob', bob)).ok, 'authorize uses the reloaded clients');
  const carolResult = policy.authorize(request('carol', carol));
  assert.ok(carolResult.ok === false && carolResult.code === CloseCode.POLICY);
});

test('property: authorize succeeds exactly for an enabled (name, key) pair in the config', async () => {
  const people = [alice, bob, carol, mallory];
  const names = ['alice', 'bob', 'carol', 'mallory'];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ person: fc.integer({ min: 0, max: 3 }), enabled: fc.boolean() }), { maxLength: 4 }).map((list) => list.filter((c, i) => list.findIndex((d) => d.person === c.person) === i)),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      async (entries, asName, withKey) => {
        const config = serverConfig(entries.map((e) => ({ name: names[e.person]!, keys: people[e.person]!, extra: `enabled = ${e.enabled}\n` })));
        const { policy } = await setup(config);
        const result = policy.authorize(request(names[asName]!, people[withKey]!));
        const entry = entries.find((e) => e.person === asName);
        if (!entry || asName !== withKey) assert.ok(result.ok === false && result.code === CloseCode.AUTHENTICATION_FAILURE);
        else if (!entry.enabled) assert.ok(result.ok === false && result.code === CloseCode.POLICY);
        else assert.ok(result.ok);
      },
    ),
    { numRuns: 100 },
  );
});
