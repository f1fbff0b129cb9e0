/** client.toml's server choice: [server] or servers = [...] (failover), exactly one, both coming out as `servers`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { clientConfigSchema } from '../../../src/config/schema.js';

const KEY_A = 'oZX/HucE68pu6Oyi3wfIjV8znRluT/eYLvDvpv4T51k=';
const KEY_B = '2u3aOvGk8PmP9ZlnxNnXWtsU9fhhpBK6aV0WQ6xvKXw=';
const HEAD = 'name = "alice"\nprivate_key_file = "/k"\n';

const issues = (toml: string): string[] => {
  const result = clientConfigSchema.safeParse(parse(toml));
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('[server] alone still works and comes out as a one-entry servers list', () => {
  const config = clientConfigSchema.parse(parse(`${HEAD}[server]\naddress = "vpn.example.net"\npublic_key = "${KEY_A}"\n`));
  assert.deepEqual(config.servers, [{ address: 'vpn.example.net', port: 5555, public_key: KEY_A }]);
  assert.equal(config.server, config.servers[0]);
  assert.equal(config.server_order, 'in-order');
});

test('servers = [...] with their own keys and ports, walked at random', () => {
  const config = clientConfigSchema.parse(parse(`${HEAD}server_order = "random"\nservers = [{ address = "a.example", public_key = "${KEY_A}" }, { address = "b.example", port = 443, public_key = "${KEY_B}", name = "b.example:443" }]\n`));
  assert.deepEqual(config.servers.map((s) => `${s.address}:${s.port}`), ['a.example:5555', 'b.example:443']);
  assert.equal(config.server.address, 'a.example');
  assert.equal(config.server_order, 'random');
});

test('neither or both is refused, naming the choice; also alongside other problems', () => {
  assert.deepEqual(issues(`${HEAD}`), ['server: expected the server to connect to: a [server] table, or servers = [...] for failover']);
  assert.deepEqual(issues('name = "alice"\n'), ['private_key_file: expected a file path', 'server: expected the server to connect to: a [server] table, or servers = [...] for failover']);
  const both = `${HEAD}servers = [{ address = "a.example", public_key = "${KEY_A}" }]\n[server]\naddress = "b.example"\npublic_key = "${KEY_B}"\n`;
  assert.deepEqual(issues(both), ['server: expected either [server] or servers = [...], not both']);
});

test('each server entry is checked: an empty list, a bad key, a loop through the relays', () => {
  assert.match(issues(`${HEAD}servers = []\n`).join('\n'), /servers: expected at least one server/);
  assert.match(issues(`${HEAD}servers = [{ address = "a.example", public_key = "nope" }]\n`).join('\n'), /servers\.0\.public_key: /);
  const loop = `${HEAD}relays = ["b.example:5555"]\nservers = [{ address = "a.example", public_key = "${KEY_A}" }, { address = "b.example", public_key = "${KEY_B}" }]\n`;
  assert.deepEqual(issues(loop), ['servers.1: expected distinct hops (a loop is refused by every relay), got "b.example:5555" twice']);
});
