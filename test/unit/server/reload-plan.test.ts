/**
 * The reload classifier: each restart-only key an edit changes is named
 * (with its values, except for key files), an edit of the clients and the
 * pushed routes alone is live, and a mixed edit applies only its live part
 * on the running settings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverConfigSchema, type ServerConfig } from '../../../src/config/server.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import { describeChanges, planReload, restartOnlyChanges } from '../../../src/server/reload-plan.js';

const keys = { alice: encodeKey(generateKeyPair().publicKey), bob: encodeKey(generateKeyPair().publicKey) };
const base = {
  private_key_file: '/etc/tapvpn/server.key',
  tunnel: { network: '10.8.0.0/24', routes: ['192.168.60.0/24'], dns: ['10.8.0.1'] },
  clients: [
    { name: 'alice', public_key: keys.alice, fixed_address: '10.8.0.10' },
    { name: 'bob', public_key: keys.bob },
  ],
};
type Raw = Record<string, unknown>;
const parse = (raw: Raw): ServerConfig => serverConfigSchema.parse(raw);
const running = parse(base);
const withTunnel = (tunnel: Raw): ServerConfig => parse({ ...base, tunnel: { ...base.tunnel, ...tunnel } });
const changedKeys = (next: ServerConfig): string[] => restartOnlyChanges(running, next).map((c) => c.key);

describe('restart-only keys a reload names', () => {
  const cases: Array<[string, ServerConfig, string[]]> = [
    ['tunnel.network (and the gateway it implies)', parse({ ...base, tunnel: { ...base.tunnel, network: '10.9.0.0/24' }, clients: [base.clients[1]] }), ['tunnel.network', 'tunnel.gateway']],
    ['tunnel.gateway', withTunnel({ gateway: '10.8.0.254' }), ['tunnel.gateway']],
    ['tunnel.pool_start', withTunnel({ pool_start: '10.8.0.100' }), ['tunnel.pool_start']],
    ['tunnel.dns', withTunnel({ dns: ['9.9.9.9'] }), ['tunnel.dns']],
    ['tunnel.search_domain', withTunnel({ search_domain: 'corp.example.com' }), ['tunnel.search_domain']],
    ['tunnel.lease_time', withTunnel({ lease_time: 600 }), ['tunnel.lease_time']],
    ['tunnel.network6', withTunnel({ network6: 'fd00:8::/48' }), ['tunnel.network6']],
    ['tunnel.session_max_age', withTunnel({ session_max_age: 600 }), ['tunnel.session_max_age']],
    ['listen.port', parse({ ...base, listen: { port: 6000 } }), ['listen.port']],
    ['listen.address', parse({ ...base, listen: { address: '127.0.0.1' } }), ['listen.address']],
    ['adapter.mtu', parse({ ...base, adapter: { mtu: 1300 } }), ['adapter.mtu']],
    ['adapter.name', parse({ ...base, adapter: { name: 'tap9' } }), ['adapter.name']],
    ['private_key_file', parse({ ...base, private_key_file: '/etc/tapvpn/other.key' }), ['private_key_file']],
    ['keepalive.interval', parse({ ...base, keepalive: { interval: 5 } }), ['keepalive.interval']],
    ['key_lifetime.seconds', parse({ ...base, key_lifetime: { seconds: 120 } }), ['key_lifetime.seconds']],
    ['suites', parse({ ...base, suites: ['chacha20-poly1305'] }), ['suites']],
    ['reload.poll_interval', parse({ ...base, reload: { poll_interval: 5 } }), ['reload.poll_interval']],
    ['a client\'s fixed_address', parse({ ...base, clients: [{ ...base.clients[0], fixed_address: '10.8.0.11' }, base.clients[1]] }), ['clients.alice.fixed_address']],
    ['a new client\'s fixed_address', parse({ ...base, clients: [...base.clients, { name: 'carol', public_key: encodeKey(generateKeyPair().publicKey), fixed_address: '10.8.0.12' }] }), ['clients.carol.fixed_address']],
  ];
  for (const [what, next, expected] of cases) {
    it(what, () => assert.deepEqual(changedKeys(next), expected));
  }

  it('the same file again changes nothing', () => assert.deepEqual(changedKeys(parse(base)), []));

  it('keepalive.timeout, as written (not its derived milliseconds)', () => assert.deepEqual(changedKeys(parse({ ...base, keepalive: { timeout: 90 } })), ['keepalive.timeout']));

  it('says what changed, from and to, as the operator wrote it', () => {
    assert.equal(describeChanges(restartOnlyChanges(running, parse({ ...base, tunnel: { ...base.tunnel, network: '10.9.0.0/24' }, clients: [] }))), 'tunnel.network (10.8.0.0/24 → 10.9.0.0/24), tunnel.gateway (10.8.0.1 → 10.9.0.1)');
    assert.equal(describeChanges(restartOnlyChanges(running, withTunnel({ dns: ['9.9.9.9', '1.1.1.1'] }))), 'tunnel.dns ([10.8.0.1] → [9.9.9.9, 1.1.1.1])');
  });

  it('names a key file without its path', () => {
    const [change] = restartOnlyChanges(running, parse({ ...base, private_key_file: '/etc/tapvpn/other.key' }));
    assert.deepEqual(change, { key: 'private_key_file' });
    assert.equal(describeChanges([change!]), 'private_key_file');
  });
});

describe('live keys', () => {
  it('an edit of the clients and the pushed routes alone is applied as it is', () => {
    const next = parse({
      ...base,
      client_to_client: true,
      tunnel: { ...base.tunnel, routes: ['192.168.61.0/24'] },
      clients: [{ ...base.clients[0], enabled: false, networks: ['172.16.1.0/24'] }, { name: 'bob', public_key: encodeKey(generateKeyPair().publicKey), routes: [] }],
    });
    const plan = planReload(running, next);
    assert.deepEqual(plan.restartOnly, []);
    assert.ok(plan.ok);
    assert.equal(plan.apply, next);
  });

  it('a client removed with its fixed address is live', () => assert.deepEqual(changedKeys(parse({ ...base, clients: [base.clients[1]] })), []));
});

describe('a mixed edit', () => {
  it('applies the clients on the running tunnel settings, and names what waits for a restart', () => {
    const next = parse({ ...base, tunnel: { ...base.tunnel, network: '10.9.0.0/24', dns: ['10.9.0.1'] }, clients: [{ ...base.clients[0], fixed_address: '10.9.0.10' }] });
    const plan = planReload(running, next);
    assert.ok(plan.ok);
    assert.deepEqual(plan.restartOnly.map((c) => c.key), ['tunnel.network', 'tunnel.dns', 'tunnel.gateway', 'clients.alice.fixed_address']);
    assert.deepEqual(plan.apply.clients.map((c) => c.name), ['alice'], 'bob is revoked all the same');
    assert.equal(plan.apply.clients[0]!.fixed_address, '10.8.0.10', 'her fixed address as the lease pool has it');
    assert.deepEqual(plan.apply.tunnel, running.tunnel);
    assert.deepEqual(restartOnlyChanges(running, plan.apply), [], 'what is applied changes no restart-only key');
  });

  it('refuses it all when the clients do not fit the running settings, saying why', () => {
    // A site network in the running tunnel network: valid beside the new network only.
    const next = parse({ ...base, tunnel: { ...base.tunnel, network: '10.9.0.0/24' }, clients: [{ name: 'alice', public_key: keys.alice, networks: ['10.8.0.0/25'] }] });
    const plan = planReload(running, next);
    assert.equal(plan.ok, false);
    assert.ok(!plan.ok && /clients\.0\.networks\.0: expected a network outside tunnel\.network 10\.8\.0\.0\/24/.test(plan.problem), !plan.ok ? plan.problem : '');
  });
});
