/**
 * The relay config schema: a minimal file gets the documented defaults;
 * names must be host:port; limits are bounded; groups are checked (own name,
 * duplicates, status ports need a key) with errors naming the key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfigText } from '../../../src/config/load.js';
import { relayConfigSchema } from '../../../src/config/relay-schema.js';

const parse = (text: string) => parseConfigText(relayConfigSchema, text, 'relay.toml');
function problems(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected the config to be refused');
}

describe('relay config schema', () => {
  it('fills the defaults for a minimal file', () => {
    const config = parse('name = "relay1.example:7000"\n');
    assert.deepEqual(config.listen, { address: '0.0.0.0', port: 7000 });
    assert.deepEqual(config.limits, { max_path_length: 16, max_relay_frame_bytes: 4096, connect_timeout: 5, idle_timeout: 120, max_connections: 1024, max_connections_per_source: 64, per_source_burst: 32, per_source_rate: 8 });
    assert.deepEqual(config.groups, []);
    assert.deepEqual(config.aliases, []);
  });

  it('reads the example file', async () => {
    const { readFile } = await import('node:fs/promises');
    const config = parse(await readFile(new URL('../../../examples/relay.toml', import.meta.url), 'utf8'));
    assert.equal(config.groups[0]?.servers.length, 2);
  });

  it('takes a system user to drop to, and nothing that is not a user name', () => {
    assert.equal(parse('name = "relay1.example:7000"\nuser = "tapvpn"\n').user, 'tapvpn');
    assert.equal(parse('name = "relay1.example:7000"\n').user, undefined);
    assert.match(problems('name = "relay1.example:7000"\nuser = "root;id"\n').join('\n'), /^user: expected a system user name/m);
  });

  it('refuses names that are not host:port', () => {
    for (const name of ['relay1', 'relay1:0', 'relay1:70000', 'has space:1', 'a:b:1']) {
      assert.match(problems(`name = "${name}"\n`).join('\n'), /^name: /, name);
    }
    assert.equal(parse('name = "[fd00::1]:7000"\n').name, '[fd00::1]:7000');
  });

  it('bounds the limits', () => {
    assert.match(problems('name = "r:1"\n[limits]\nmax_path_length = 17\n')[0]!, /^limits\.max_path_length: /);
    assert.match(problems('name = "r:1"\n[limits]\nmax_relay_frame_bytes = 70000\n')[0]!, /^limits\.max_relay_frame_bytes: /);
    assert.match(problems('name = "r:1"\n[limits]\nmax_connections = 0\n')[0]!, /^limits\.max_connections: /);
  });

  it('checks groups: own name, duplicates, members, status key', () => {
    assert.match(problems('name = "r:1"\n[[groups]]\nname = "r:1"\nservers = [{ address = "s:1" }]\n').join(), /groups\[0\]\.name: "r:1" is this relay's own name/);
    assert.match(problems('name = "r:1"\n[[groups]]\nname = "g:1"\nservers = [{ address = "s:1" }, { address = "s:1" }]\n').join(), /groups\[0\]\.servers\[1\]\.address: s:1 is listed twice/);
    assert.match(problems('name = "r:1"\n[[groups]]\nname = "g:1"\nservers = []\n').join(), /groups\[0\]\.servers: /);
    assert.match(problems('name = "r:1"\n[[groups]]\nname = "g:1"\nservers = [{ address = "s:1", status_port = 5556 }]\n').join(), /status\.key_file: .*set status\.key_file/);
    const ok = parse('name = "r:1"\n[status]\nkey_file = "/k"\n[[groups]]\nname = "g:1"\nservers = [{ address = "s:1", status_port = 5556 }]\n');
    assert.equal(ok.groups[0]?.servers[0]?.status_port, 5556);
  });

  it('next_hops: defaults to nothing (deny all), entries host:port, once each, not our own names or a group name', () => {
    assert.deepEqual(parse('name = "r:1"\n').next_hops, { servers: [], relays: [] });
    const ok = parse('name = "r:1"\n[next_hops]\nservers = ["10.0.1.10:5555"]\nrelays = ["relay2.example:7000"]\n');
    assert.deepEqual(ok.next_hops, { servers: ['10.0.1.10:5555'], relays: ['relay2.example:7000'] });
    assert.match(problems('name = "r:1"\n[next_hops]\nservers = ["10.0.1.10"]\n').join(), /^next_hops\.servers\[0\]: expected host:port/);
    assert.match(problems('name = "r:1"\naliases = ["r:2"]\n[next_hops]\nrelays = ["r:2"]\n').join(), /next_hops\.relays\[0\]: "r:2" is this relay's own name: forwarding to it would loop/);
    assert.match(problems('name = "r:1"\n[[groups]]\nname = "g:1"\nservers = [{ address = "s:1" }]\n[next_hops]\nservers = ["g:1"]\n').join(), /next_hops\.servers\[0\]: "g:1" is already a group's name/);
    assert.match(problems('name = "r:1"\n[next_hops]\nservers = ["s:1"]\nrelays = ["s:1"]\n').join(), /next_hops\.relays\[0\]: "s:1" is already listed in next_hops\.servers/);
    assert.match(problems('name = "r:1"\n[next_hops]\nserver = ["s:1"]\n').join(), /next_hops/);
  });
});
