/**
 * LeaseStore: pool bounds, reconnects, expiry and reclaim, fixed addresses,
 * persistence through the atomic write, corrupt files moved aside, and a
 * fast-check property that no two clients ever hold one address.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { LeaseError, LeaseStore, parseLeaseFile, type LeasePool } from '../../../src/server/leases.js';
import { inSubnet, ipv4ToNumber } from '../../../src/wire/addr.js';

const HOUR_MS = 3600_000;
const pool = (over: Partial<LeasePool> = {}): LeasePool => ({ network: '10.77.0.0', prefixLength: 29, gateway: '10.77.0.1', fixed: new Map(), leaseTimeMs: HOUR_MS, ...over });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvt-leases-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('hands out the lowest free hosts, skipping network, gateway and broadcast, then reports exhaustion', async () => {
  const store = await LeaseStore.open(pool(), undefined);
  const got = ['a', 'b', 'c', 'd', 'e'].map((n) => store.acquire(n, 0));
  assert.deepEqual(got, ['10.77.0.2', '10.77.0.3', '10.77.0.4', '10.77.0.5', '10.77.0.6']);
  assert.throws(() => store.acquire('f', 0), (e: unknown) => e instanceof LeaseError && e.code === 'POOL_EXHAUSTED' && /no free address left .*\(5 leases, none expired\)/.test(e.message));
});

test('honours a configured dynamic range', async () => {
  const store = await LeaseStore.open(pool({ prefixLength: 24, start: '10.77.0.100', end: '10.77.0.101' }), undefined);
  assert.equal(store.acquire('a', 0), '10.77.0.100');
  assert.equal(store.acquire('b', 0), '10.77.0.101');
  assert.throws(() => store.acquire('c', 0), LeaseError);
});

test('a reconnecting client gets its address back, before and after expiry while nobody needed it', async () => {
  const store = await LeaseStore.open(pool(), undefined);
  const a = store.acquire('a', 0);
  store.acquire('b', 0);
  store.release('a');
  assert.equal(store.acquire('a', 10), a, 'valid lease');
  store.release('a');
  store.acquire('c', 5 * HOUR_MS); // fresh addresses are used before expired leases
  assert.equal(store.acquire('a', 10 * HOUR_MS), a, 'expired but not reused');
});

test('an expired lease of a disconnected client is reclaimed only when the pool is otherwise full; a connected one never', async () => {
  const store = await LeaseStore.open(pool({ prefixLength: 30 }), undefined); // one dynamic host: .2
  assert.equal(store.acquire('a', 0), '10.77.0.2');
  assert.throws(() => store.acquire('b', 2 * HOUR_MS), LeaseError, 'a is still connected');
  store.release('a');
  assert.throws(() => store.acquire('b', HOUR_MS - 1), LeaseError, 'a is disconnected but its lease is valid');
  assert.equal(store.acquire('b', HOUR_MS), '10.77.0.2');
  assert.equal(store.addressOf('a'), undefined);
  assert.equal(store.holderOf('10.77.0.2'), 'b');
});

test('fixed addresses go only to their client, even inside the dynamic range', async () => {
  const store = await LeaseStore.open(pool({ fixed: new Map([['boss', '10.77.0.2']]) }), undefined);
  assert.equal(store.acquire('a', 0), '10.77.0.3');
  assert.equal(store.acquire('boss', 0), '10.77.0.2');
  for (const name of ['b', 'c', 'd']) assert.notEqual(store.acquire(name, 0), '10.77.0.2');
  assert.throws(() => store.acquire('e', 0), LeaseError);
});

test('persists every change and a new store reads the same table back', async () => {
  const file = join(dir, 'roundtrip.json');
  const first = await LeaseStore.open(pool(), file);
  first.acquire('alice', 1000);
  first.acquire('bob', 2000);
  first.release('bob');
  await first.flush();
  const stored = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(stored, { version: 1, leases: { alice: '10.77.0.2', bob: '10.77.0.3' }, expires: { alice: 1000 + HOUR_MS, bob: 2000 + HOUR_MS }, handshakes: {} });
  const second = await LeaseStore.open(pool(), file);
  assert.equal(second.addressOf('alice'), '10.77.0.2');
  assert.equal(second.addressOf('bob'), '10.77.0.3');
  assert.equal(second.acquire('carol', 0), '10.77.0.4');
  assert.equal(second.acquire('bob', 0), '10.77.0.3');
  await second.flush();
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
});

test('stored leases that no longer fit the config are dropped with a reason; the rest load', async () => {
  const file = join(dir, 'reconfigured.json');
  await writeFile(file, JSON.stringify({ version: 1, leases: { old: '10.9.0.2', gw: '10.77.0.1', squatter: '10.77.0.2', ok: '10.77.0.3' } }));
  const dropped: string[] = [];
  const store = await LeaseStore.open(pool({ fixed: new Map([['boss', '10.77.0.2']]) }), file, { onDropped: (m) => dropped.push(m) });
  assert.equal(store.size, 1);
  assert.equal(store.addressOf('ok'), '10.77.0.3');
  assert.equal(dropped.length, 3);
  assert.match(dropped.join('\n'), /"old" on 10\.9\.0\.2 dropped: outside 10\.77\.0\.0\/29/);
  assert.match(dropped.join('\n'), /"squatter" on 10\.77\.0\.2 dropped: the fixed address of "boss"/);
});

for (const [label, content, problem] of [
  ['not JSON', '{"version": 1, "leases": {', /not valid JSON/],
  ['a wrong version', '{"version": 7, "leases": {}}', /expected "version": 1, got 7/],
  ['a bad address', '{"version": 1, "leases": {"a": "10.77.0.300"}}', /lease of "a": expected an IPv4 address, got "10\.77\.0\.300"/],
  ['two clients on one address', '{"version": 1, "leases": {"a": "10.77.0.2", "b": "10.77.0.2"}}', /"b" and "a" both hold 10\.77\.0\.2/],
  ['a bad expiry', '{"version": 1, "leases": {"a": "10.77.0.2"}, "expires": {"a": "soon"}}', /expiry of "a"/],
] as const) {
  test(`a lease file with ${label} is moved aside and reported, never emptied in place`, async () => {
    const file = join(dir, `corrupt-${label.replace(/\W/g, '-')}.json`);
    await writeFile(file, content);
    const reports: string[] = [];
    const store = await LeaseStore.open(pool(), file, { onCorrupt: (m) => reports.push(m), nowMs: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    assert.equal(store.size, 0);
    assert.equal(reports.length, 1);
    const aside = `${file}.corrupt-2026-01-02T03-04-05-000Z`;
    assert.ok(reports[0]!.startsWith(`${file}: corrupt lease file: `), reports[0]);
    assert.match(reports[0]!, problem);
    assert.ok(reports[0]!.includes(aside));
    assert.equal(await readFile(aside, 'utf8'), content, 'the corrupt file is kept byte for byte');
    await assert.rejects(readFile(file), { code: 'ENOENT' });
  });
}

test('a failed write is surfaced by flush(), not swallowed', async () => {
  const store = await LeaseStore.open(pool(), join(dir, 'no-such-dir', 'leases.json'));
  store.acquire('a', 0);
  await assert.rejects(store.flush(), /cannot write the lease file/);
});

test('parseLeaseFile accepts a file without expiries (written by an older version)', () => {
  const parsed = parseLeaseFile('{"version": 1, "leases": {"a": "10.77.0.2"}}');
  assert.notEqual(typeof parsed, 'string');
});

test('property: no address is ever held by two clients; every address is a usable pool host; connected clients keep theirs', async () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  const op = fc.oneof(
    fc.record({ kind: fc.constant('acquire' as const), name: fc.constantFrom(...names), dt: fc.nat(2 * HOUR_MS) }),
    fc.record({ kind: fc.constant('release' as const), name: fc.constantFrom(...names), dt: fc.nat(HOUR_MS) }),
    fc.record({ kind: fc.constant('forget' as const), name: fc.constantFrom(...names), dt: fc.constant(0) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 80 }), fc.boolean(), async (ops, withFixed) => {
      const fixed = new Map(withFixed ? [['c', '10.77.0.5']] : []);
      const store = await LeaseStore.open(pool({ fixed }), undefined);
      const connected = new Map<string, string>();
      let now = 0;
      for (const { kind, name, dt } of ops) {
        now += dt;
        if (kind === 'acquire') {
          try {
            const address = store.acquire(name, now);
            const before = connected.get(name);
            if (before) assert.equal(address, before, 'a connected client keeps its address');
            connected.set(name, address);
          } catch (error) {
            assert.ok(error instanceof LeaseError && error.code === 'POOL_EXHAUSTED');
          }
        } else if (kind === 'release') {
          store.release(name);
          connected.delete(name);
        } else {
          store.forget(name);
          connected.delete(name);
        }
        const seen = new Set<string>();
        for (const [holder, { address }] of store.snapshot()) {
          assert.ok(!seen.has(address), `${address} held twice`);
          seen.add(address);
          assert.equal(store.holderOf(address), holder);
          const n = ipv4ToNumber(address);
          assert.ok(inSubnet(n, ipv4ToNumber('10.77.0.0'), 29) && n > ipv4ToNumber('10.77.0.1') && n < ipv4ToNumber('10.77.0.7'), address);
          if (address === '10.77.0.5' && withFixed) assert.equal(holder, 'c');
        }
        for (const [holder, address] of connected) assert.equal(store.addressOf(holder), address);
      }
    }),
    { numRuns: 300 },
  );
});
