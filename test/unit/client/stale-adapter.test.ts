import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adapterAlias, describeLink, isOurs } from '../../../src/client/stale-adapter.js';

const tap = (extra: object) => ({ linkinfo: { info_kind: 'tun', info_data: { type: 'tap', persist: true } }, ...extra });

test('only a TAP carrying our alias is ours', () => {
  assert.equal(isOurs(tap({ ifalias: adapterAlias('alice') })), true);
  assert.equal(isOurs(tap({})), false);
  assert.equal(isOurs({ ifalias: adapterAlias('alice'), linkinfo: { info_kind: 'veth' } }), false);
});

test('a foreign link is described with its kind and addresses', () => {
  const text = describeLink(tap({ addr_info: [{ family: 'inet', local: '192.0.2.5', prefixlen: 24 }] }));
  assert.equal(text, 'a persistent TAP device with 192.0.2.5/24');
  assert.equal(describeLink({ linkinfo: { info_kind: 'veth' } }), 'a veth device');
});
