/**
 * Masquerade rules: the nft transaction's text, and (as root, with nft) the
 * table really created, replaced when stale and removed, inside a network
 * namespace this test creates and deletes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { enableMasquerade, masqueradeScript, masqueradeTableName } from '../../../src/util/masquerade.js';

test('the script replaces a stale table and masquerades only the tunnel network leaving it', () => {
  const script = masqueradeScript({ network: '10.77.0.0', prefixLength: 24, adapter: 'tapvpn0', outInterface: 'eth0' });
  assert.equal(masqueradeTableName('tap-vpn.0'), 'tapvpn_tap_vpn_0');
  assert.deepEqual(script.split(' ; ').slice(0, 3), ['add table ip tapvpn_tapvpn0', 'delete table ip tapvpn_tapvpn0', 'add table ip tapvpn_tapvpn0']);
  assert.match(script, /ip saddr 10\.77\.0\.0\/24 ip daddr != 10\.77\.0\.0\/24 oifname "eth0" masquerade$/);
  assert.doesNotMatch(masqueradeScript({ network: '10.77.0.0', prefixLength: 24, adapter: 'tapvpn0' }), /oifname/);
});

test('a bad interface name is refused before nft runs', async () => {
  await assert.rejects(enableMasquerade({ network: '10.77.0.0', prefixLength: 24, adapter: 't', outInterface: 'eth0"; flush ruleset' }), /expected an interface name/);
});

const canRun = process.geteuid?.() === 0 && (() => {
  try {
    execFileSync('nft', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

test('in a namespace: created, replaced when stale, removed', { skip: canRun ? false : 'needs root and nft' }, async () => {
  const netns = `tvt-masq-${process.pid % 100000}`;
  const list = (): string => execFileSync('ip', ['netns', 'exec', netns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    const options = { network: '10.77.0.0', prefixLength: 24, adapter: 'tvt0', outInterface: 'lo', netns };
    const first = await enableMasquerade(options);
    const second = await enableMasquerade(options); // as after a crash: the old table is replaced
    const rules = list();
    assert.equal(rules.match(/masquerade/g)?.length, 1, rules);
    assert.match(rules, /table ip tapvpn_tvt0/);
    assert.match(rules, /ip saddr 10\.77\.0\.0\/24 ip daddr != 10\.77\.0\.0\/24 oifname "lo" masquerade/);
    await second.remove();
    await first.remove();
    assert.doesNotMatch(list(), /tapvpn_tvt0/);
  } finally {
    execFileSync('ip', ['netns', 'delete', netns]);
  }
});
