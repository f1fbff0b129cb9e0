/**
 * Config loading: every example in examples/ parses with its schema; every
 * problem names the file, the key path and what was expected; TOML syntax
 * errors give line and column; cross-field rules; defaults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ConfigError, keyPath, loadConfigFile, parseConfigText } from '../../../src/config/load.js';
import { clientConfigSchema, relayConfigSchema, serverConfigSchema } from '../../../src/config/schema.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const KEY_A = 'jCTW91CKOXOANgmOf8H2ydcrBv+2DXwqJYn5E0EYbVQ=';
const KEY_B = 'azdlFgnT36uOofR8d2METSgLUC1YJLXYH1rNlyJXIhQ=';
const KEY_C = 'xQHR6lPasZDdpjZLgxrfwinnnVeRjG9X3W562XIq1TA=';

const SERVER_MIN = `private_key_file = "/k"\n[tunnel]\nnetwork = "10.77.0.0/24"\n`;
const CLIENT_MIN = `name = "a"\nprivate_key_file = "/k"\n[server]\naddress = "vpn.example.net"\npublic_key = "${KEY_A}"\n`;

function schemaFor(file: string) {
  if (file.startsWith('server')) return serverConfigSchema;
  if (file.startsWith('client')) return clientConfigSchema;
  if (file.startsWith('relay')) return relayConfigSchema;
  return undefined;
}

/** Runs `fn`, asserts it throws a ConfigError, returns its message. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'BAD_CONFIG');
    return error;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}

const server = (text: string): ReturnType<typeof parseConfigText<typeof serverConfigSchema>> => parseConfigText(serverConfigSchema, text, 'server.toml');

test('every example in examples/ loads with its schema', async () => {
  const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.toml'));
  assert.ok(files.includes('server.toml') && files.includes('client.toml'), `examples/ has ${files.join(', ')}`);
  for (const file of files) {
    const schema = schemaFor(file);
    assert.ok(schema, `examples/${file}: no schema known for this name (server*, client*, relay*)`);
    await loadConfigFile(schema, join(EXAMPLES, file)); // throws with the problem if not
  }
});

test('examples/server.toml: the values it documents are the ones parsed', async () => {
  const config = await loadConfigFile(serverConfigSchema, join(EXAMPLES, 'server.toml'));
  assert.equal(config.tunnel.gateway, '10.77.0.1');
  assert.deepEqual(config.tunnel.pool, { start: '10.77.0.10', end: '10.77.0.250' });
  assert.deepEqual(config.tunnel.routes, [{ address: '192.168.50.0', prefixLength: 24 }]);
  assert.equal(config.clients.length, 3);
  assert.equal(config.clients[2]!.enabled, false);
  assert.equal(config.clients[0]!.enabled, true, 'enabled defaults to true');
});

test('server defaults are applied', () => {
  const config = server(SERVER_MIN);
  assert.deepEqual(config.listen, { address: '0.0.0.0', port: 5555 });
  assert.deepEqual(config.adapter, { name: 'tapvpn0', mtu: 1400, offload: true });
  assert.equal(config.lease_file, '/var/lib/tapvpn/leases.json');
  assert.equal(config.client_to_client, false);
  assert.equal(config.masquerade.enabled, false);
  assert.equal(config.tunnel.gateway, '10.77.0.1', 'gateway defaults to the first host');
  assert.deepEqual(config.tunnel.pool, { start: '10.77.0.2', end: '10.77.0.254' });
  assert.equal(config.tunnel.lease_time, 3600);
  assert.equal(config.tunnel.leaseTimeMs, 3_600_000);
  assert.deepEqual(config.tunnel.routes, []);
  assert.deepEqual(config.tunnel.dns, []);
  assert.equal(config.keepalive.interval, 10);
  assert.equal(config.keepalive.timeoutMs, 30_000);
  assert.equal(config.key_lifetime.seconds, 600);
  assert.equal(config.key_lifetime.bytes, 2 ** 30);
  assert.deepEqual(config.clients, []);
  assert.equal(config.suites, undefined);
});

test('client defaults are applied', () => {
  const config = parseConfigText(clientConfigSchema, CLIENT_MIN, 'client.toml');
  assert.equal(config.server.port, 5555);
  assert.deepEqual(config.relays, []);
  assert.equal(config.adapter.name, 'tapvpn0');
  assert.equal(config.address_mode, 'dhcp');
  assert.equal(config.dhcp_client, 'auto');
  assert.deepEqual([config.keepalive.interval, config.keepalive.timeout], [10, 30]);
  assert.deepEqual([config.reconnect.min_delay, config.reconnect.max_delay, config.reconnect.maxDelayMs], [1, 60, 60_000]);
});

test('a bad public key in clients[1] names the file, clients[1].public_key, what is expected and what arrived', () => {
  const text = `${SERVER_MIN}[[clients]]\nname = "a"\npublic_key = "${KEY_A}"\n[[clients]]\nname = "b"\npublic_key = "not-a-key"\n`;
  const error = configError(() => server(text));
  assert.equal(error.file, 'server.toml');
  assert.equal(error.problems.length, 1);
  assert.match(error.message, /^server\.toml: clients\[1\]\.public_key: expected a base64 X25519 public key.*got "not-a-key"/);
});

test('a missing key and a wrong type say so', () => {
  const missing = configError(() => server(`[tunnel]\nnetwork = "10.77.0.0/24"\n`));
  assert.match(missing.message, /private_key_file: expected .*got nothing \(the key is missing\)/);
  const wrongType = configError(() => server(`${SERVER_MIN}[listen]\nport = "5555"\n`));
  assert.match(wrongType.message, /listen\.port: expected .*port.*got "5555"/);
});

test('an unknown key (a typo) is an error naming its path', () => {
  const error = configError(() => server(`${SERVER_MIN}[adapter]\nmut = 1400\n`));
  assert.match(error.message, /adapter\.mut: unknown key/);
});

test('all problems are reported at once', () => {
  const error = configError(() => server(`private_key_file = ""\n[listen]\nport = 0\n[tunnel]\nnetwork = "10.77.0.0/24"\ndns = ["x"]\n`));
  assert.equal(error.problems.length, 3, error.message);
  assert.match(error.message, /3 problems/);
  for (const path of ['private_key_file', 'listen.port', 'tunnel.dns[0]']) assert.ok(error.problems.some((p) => p.startsWith(`${path}: expected`)), `${path} in ${error.message}`);
});

test('a TOML syntax error gives file:line:column', () => {
  const error = configError(() => server(`private_key_file = "/k"\n\n[tunnel\nnetwork = "10.77.0.0/24"\n`));
  assert.match(error.file, /^server\.toml:3:\d+$/);
  assert.match(error.message, /^server\.toml:3:\d+: TOML syntax error/);
});

test('an unreadable file is a ConfigError naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tvt-config-'));
  try {
    const file = join(dir, 'missing.toml');
    await assert.rejects(loadConfigFile(serverConfigSchema, file), (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${file}: cannot read`));
    await writeFile(file, `${SERVER_MIN}[tunnel]\n`);
    await assert.rejects(loadConfigFile(serverConfigSchema, file), (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${file}:`) && /line|TOML/.test(error.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('cross-field: a gateway outside the network', () => {
  const error = configError(() => server(`private_key_file = "/k"\n[tunnel]\nnetwork = "10.77.0.0/24"\ngateway = "10.78.0.1"\n`));
  assert.match(error.message, /tunnel\.gateway: expected a host address inside tunnel\.network 10\.77\.0\.0\/24.*got 10\.78\.0\.1/);
});

test('cross-field: gateway equal to the network or broadcast address', () => {
  for (const gateway of ['10.77.0.0', '10.77.0.255']) {
    const error = configError(() => server(`private_key_file = "/k"\n[tunnel]\nnetwork = "10.77.0.0/24"\ngateway = "${gateway}"\n`));
    assert.match(error.message, /tunnel\.gateway: expected a host address/);
  }
});

test('cross-field: host bits set in a CIDR', () => {
  const error = configError(() => server(`private_key_file = "/k"\n[tunnel]\nnetwork = "10.77.0.1/24"\nroutes = ["192.168.50.0/24", "192.168.51.7/24"]\n`));
  assert.ok(error.problems.some((p) => /^tunnel\.network: expected the network address with host bits zero, got "10\.77\.0\.1\/24"/.test(p)), error.message);
  assert.ok(error.problems.some((p) => /^tunnel\.routes\[1\]: expected the network address with host bits zero/.test(p)), error.message);
});

test('cross-field: a pool containing the gateway, a reversed pool, a pool outside the network', () => {
  assert.match(configError(() => server(`${SERVER_MIN}gateway = "10.77.0.50"\npool_start = "10.77.0.10"\npool_end = "10.77.0.100"\n`)).message, /tunnel\.pool_start: expected a pool that does not contain the gateway/);
  assert.match(configError(() => server(`${SERVER_MIN}pool_start = "10.77.0.100"\npool_end = "10.77.0.10"\n`)).message, /tunnel\.pool_end: expected an address at or after tunnel\.pool_start/);
  assert.match(configError(() => server(`${SERVER_MIN}pool_end = "10.77.1.10"\n`)).message, /tunnel\.pool_end: expected a host address inside/);
});

test('cross-field: duplicate client names, keys and fixed addresses', () => {
  const clients = [
    `[[clients]]\nname = "a"\npublic_key = "${KEY_A}"\nfixed_address = "10.77.0.5"`,
    `[[clients]]\nname = "a"\npublic_key = "${KEY_B}"`,
    `[[clients]]\nname = "c"\npublic_key = "${KEY_A}"`,
    `[[clients]]\nname = "d"\npublic_key = "${KEY_C}"\nfixed_address = "10.77.0.5"`,
  ].join('\n');
  const error = configError(() => server(`${SERVER_MIN}${clients}\n`));
  assert.equal(error.problems.length, 3, error.message);
  assert.match(error.problems.find((p) => p.startsWith('clients[1].name'))!, /unique name, got "a" \(also clients\[0\]\)/);
  assert.match(error.problems.find((p) => p.startsWith('clients[2].public_key'))!, /key no other client has.*clients\[0\]/);
  assert.match(error.problems.find((p) => p.startsWith('clients[3].fixed_address'))!, /no other client has, got 10\.77\.0\.5 \(also clients\[0\]\)/);
});

test('cross-field: a fixed address that is the gateway or outside the network', () => {
  const entry = (address: string): string => `${SERVER_MIN}[[clients]]\nname = "a"\npublic_key = "${KEY_A}"\nfixed_address = "${address}"\n`;
  assert.match(configError(() => server(entry('10.77.0.1'))).message, /clients\[0\]\.fixed_address: expected an address other than the gateway/);
  assert.match(configError(() => server(entry('10.99.0.1'))).message, /clients\[0\]\.fixed_address: expected a host address inside/);
});

test('cross-field: keepalive timeout not above interval; reconnect max below min', () => {
  assert.match(configError(() => server(`${SERVER_MIN}[keepalive]\ninterval = 10\ntimeout = 10\n`)).message, /keepalive\.timeout: expected more than keepalive\.interval/);
  const error = configError(() => parseConfigText(clientConfigSchema, `${CLIENT_MIN}[reconnect]\nmin_delay = 5\nmax_delay = 2\n`, 'client.toml'));
  assert.match(error.message, /^client\.toml: reconnect\.max_delay: expected at least reconnect\.min_delay/);
});

test('client: a relay path that loops back to the server is refused', () => {
  const error = configError(() => parseConfigText(clientConfigSchema, `relays = ["vpn.example.net:5555"]\n${CLIENT_MIN}`, 'client.toml'));
  assert.match(error.message, /server: expected distinct hops/);
});

test('keyPath renders zod paths as TOML key paths', () => {
  assert.equal(keyPath(['clients', 2, 'public_key']), 'clients[2].public_key');
  assert.equal(keyPath(['tunnel', 'routes', 0]), 'tunnel.routes[0]');
  assert.equal(keyPath([]), '(top level)');
});

test('property: any text either parses or throws ConfigError (never anything else)', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      for (const schema of [serverConfigSchema, clientConfigSchema]) {
        try {
          parseConfigText(schema, text, 'fuzz.toml');
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          assert.ok(error.message.startsWith('fuzz.toml'));
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('property: a mutated valid server config is valid or says which key is wrong', () => {
  const keys = ['listen.port', 'adapter.mtu', 'tunnel.lease_time', 'keepalive.interval'] as const;
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.oneof(fc.integer({ min: -100_000, max: 100_000 }), fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s))), (key, value) => {
      const [table, leaf] = key.split('.') as [string, string];
      const text = table === 'tunnel' ? `${SERVER_MIN}${leaf} = ${value}\n` : `${SERVER_MIN}[${table}]\n${leaf} = ${value}\n`;
      try {
        parseConfigText(serverConfigSchema, text, 'server.toml');
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        assert.ok(error.problems.some((p) => p.startsWith(`${key}: expected`) || (key === 'keepalive.interval' && p.startsWith('keepalive.timeout: expected'))), error.message);
      }
    }),
    { numRuns: 200 },
  );
});

test('relay: an unknown key (a typo) is an error too, at every level', () => {
  const base = `name = "relay1.example.net:7000"\n`;
  assert.doesNotThrow(() => parseConfigText(relayConfigSchema, base, 'relay.toml'));
  for (const [text, path] of [
    [`${base}listn_port = 7000\n`, 'listn_port'],
    [`${base}[listen]\nprot = 7000\n`, 'listen.prot'],
    [`${base}[limits]\nmax_conections = 5\n`, 'limits.max_conections'],
    [`${base}[status]\nprobe_intreval = 5\n`, 'status.probe_intreval'],
    [`${base}[[groups]]\nname = "vpn.example.net:5555"\n[[groups.servers]]\naddress = "10.0.0.1:5555"\nstatus_prot = 5556\n`, 'groups[0].servers[0].status_prot'],
  ] as const) {
    const error = configError(() => parseConfigText(relayConfigSchema, text, 'relay.toml'));
    assert.match(error.message, new RegExp(`^relay\\.toml: ${path.replace(/[.[\]]/g, '\\$&')}: unknown key`), error.message);
  }
});

test('tunnel.search_domain takes only a domain name: shell metacharacters, spaces, leading hyphens and long labels are refused', () => {
  for (const bad of ['corp.example; rm -rf /', '$(reboot)', 'a b', '-x', 'a..b', 'a_b', `${'a'.repeat(64)}.example`]) {
    const error = configError(() => parseConfigText(serverConfigSchema, `${SERVER_MIN}search_domain = ${JSON.stringify(bad)}\n`, 'server.toml'));
    assert.ok(error.problems.some((p) => p.startsWith('tunnel.search_domain: expected a domain name')), error.message);
  }
  for (const good of ['corp.example', 'Corp-1.example.', 'lan']) {
    assert.equal(parseConfigText(serverConfigSchema, `${SERVER_MIN}search_domain = ${JSON.stringify(good)}\n`, 'server.toml').tunnel.search_domain, good);
  }
});

test('user: no masquerade, and a status port the dropped server can still bind', () => {
  assert.match(configError(() => server(`user = "tapvpn"\n${SERVER_MIN}[masquerade]\nenabled = true\nout_interface = "eth0"\n`)).message, /expected no user when masquerade/);
  const keyed = `user = "tapvpn"\n${SERVER_MIN}[status]\nenabled = true\nkey_file = "/s"\n`;
  assert.match(configError(() => server(`${keyed}port = 556\n`)).message, /status\.port.*1024 or more with user set.*556/s);
  assert.equal(server(`${keyed}port = 5556\n`).status.port, 5556);
  assert.equal(server(`${SERVER_MIN}[status]\nenabled = true\nkey_file = "/s"\nport = 556\n`).status.port, 556, 'as root it may');
});
