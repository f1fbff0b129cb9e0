/**
 * Site networks in server.toml (issue 14, site-to-site): `networks` per
 * client, and each way a network can collide — with the tunnel network,
 * with the addresses no client is ever routed, with another client's
 * networks, with a pushed route (allowed only inside a summary route, and
 * only with tunnel.routes_may_cover_networks) — named by key and value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../../../src/config/load.js';
import { serverConfigSchema } from '../../../src/config/schema.js';

const KEY_A = 'jCTW91CKOXOANgmOf8H2ydcrBv+2DXwqJYn5E0EYbVQ=';
const KEY_B = 'azdlFgnT36uOofR8d2METSgLUC1YJLXYH1rNlyJXIhQ=';

function server(networksA: string, networksB = '[]', tunnelExtra = '', clientBExtra = '') {
  const text =
    `private_key_file = "/k"\n[tunnel]\nnetwork = "10.77.0.0/24"\nroutes = ["192.168.50.0/24"]\n${tunnelExtra}\n` +
    `[[clients]]\nname = "branch-a"\npublic_key = "${KEY_A}"\nnetworks = ${networksA}\n` +
    `[[clients]]\nname = "branch-b"\npublic_key = "${KEY_B}"\nnetworks = ${networksB}\n${clientBExtra}`;
  return parseConfigText(serverConfigSchema, text, 'server.toml');
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('networks default to none, and parse as networks', () => {
  const config = server('["10.20.0.0/24", "10.21.0.0/16"]');
  assert.deepEqual(config.clients[0]!.networks, [{ address: '10.20.0.0', prefixLength: 24 }, { address: '10.21.0.0', prefixLength: 16 }]);
  assert.deepEqual(config.clients[1]!.networks, []);
});

test('a network overlapping the tunnel network, or a range never routed to a client, is refused by name', () => {
  assert.deepEqual(problems(() => server('["10.77.0.128/25"]')), ['clients[0].networks[0]: expected a network outside tunnel.network 10.77.0.0/24, got 10.77.0.128/25']);
  assert.match(problems(() => server('["10.0.0.0/8"]'))[0]!, /clients\[0\]\.networks\[0\]: expected a network outside tunnel\.network 10\.77\.0\.0\/24, got 10\.0\.0\.0\/8/, 'containing it counts too');
  for (const [network, reserved] of <Array<[string, string]>>[['127.0.0.0/16', '127.0.0.0/8'], ['169.254.0.0/16', '169.254.0.0/16'], ['224.0.0.0/24', '224.0.0.0/3'], ['0.1.0.0/16', '0.0.0.0/8']]) {
    assert.match(problems(() => server(`["${network}"]`)).join('\n'), new RegExp(`networks\\[0\\]: expected a unicast network outside ${reserved.replaceAll('.', '\\.')}`), network);
  }
});

test('two clients cannot claim overlapping networks, nor one client the same twice', () => {
  assert.deepEqual(problems(() => server('["10.20.0.0/16"]', '["10.20.5.0/24"]')), [
    'clients[1].networks[0]: expected a network no other site network overlaps (clients[0].networks[0] is 10.20.0.0/16), got 10.20.5.0/24',
  ]);
  assert.match(problems(() => server('["10.20.0.0/24", "10.20.0.0/25"]'))[0]!, /clients\[0\]\.networks\[1\]: .*clients\[0\]\.networks\[0\] is 10\.20\.0\.0\/24/);
});

test('a pushed route: never inside a site network; containing one only when tunnel.routes_may_cover_networks allows it', () => {
  assert.deepEqual(problems(() => server('["192.168.0.0/16"]')), [
    'clients[0].networks[0]: expected a network that does not contain the pushed route tunnel.routes[0] 192.168.50.0/24 (the LAN behind the server), got 192.168.0.0/16',
  ]);
  assert.match(problems(() => server('["192.168.50.0/24"]'))[0]!, /does not contain the pushed route tunnel\.routes\[0\]/, 'the same network is the server\'s LAN');
  const summary = 'routes = ["10.0.0.0/8"]';
  const covered = problems(() => server('["10.20.0.0/24"]', '[]', '', summary));
  assert.deepEqual(covered, [
    'clients[0].networks[0]: expected a network outside the pushed route clients[1].routes[0] 10.0.0.0/8, or tunnel.routes_may_cover_networks = true to let a summary or default route cover site networks (the more specific network wins), got 10.20.0.0/24',
  ]);
  const allowed = server('["10.20.0.0/24"]', '[]', 'routes_may_cover_networks = true', 'routes = ["0.0.0.0/0"]');
  assert.equal(allowed.tunnel.routes_may_cover_networks, true);
});

test('networks6: only with network6, outside it and the reserved ranges, no overlap with another client\'s or a pushed IPv6 route', () => {
  const v6 = 'network6 = "fd74:7670:6e00::/48"\nroutes6 = ["fd74:7670:99::/64"]';
  assert.deepEqual(server('[]', '[]', v6, 'networks6 = ["fd74:7670:20::/64"]').clients[1]!.networks6, [{ address: 'fd74:7670:20::', prefixLength: 64 }]);
  assert.deepEqual(problems(() => server('[]', '[]', '', 'networks6 = ["fd74:7670:20::/64"]')), ['clients[1].networks6[0]: expected no IPv6 site networks without [tunnel] network6 (IPv6 in the tunnel), got fd74:7670:20::/64']);
  assert.match(problems(() => server('[]', '[]', v6, 'networks6 = ["fd74:7670:6e00:5::/64"]'))[0]!, /networks6\[0\]: expected a network outside tunnel\.network6 fd74:7670:6e00::\/48/);
  assert.match(problems(() => server('[]', '[]', v6, 'networks6 = ["fe80::/64"]'))[0]!, /expected a unicast network outside fe80::\/10/);
  assert.match(problems(() => server('[]', '[]', v6, 'networks6 = ["fd74:7670::/32"]'))[0]!, /outside tunnel\.network6/, 'containing the tunnel network');
  assert.match(problems(() => server('[]', '[]', v6, 'networks6 = ["fd74:7670:99::/48"]'))[0]!, /does not contain the pushed route tunnel\.routes6\[0\]/);
  const twice = `[[clients]]\nname = "c"\npublic_key = "xQHR6lPasZDdpjZLgxrfwinnnVeRjG9X3W562XIq1TA="\nnetworks6 = ["fd74:7670:20::/48"]\n`;
  assert.match(problems(() => server('[]', '[]', v6, `networks6 = ["fd74:7670:20:1::/64"]\n${twice}`))[0]!, /clients\[2\]\.networks6\[0\]: expected a network no other site network overlaps \(clients\[1\]\.networks6\[0\]/);
});
