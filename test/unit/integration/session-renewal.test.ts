/**
 * Issue 10 item 9: sessions are re-authorized. A session that reaches its
 * maximum age is renewed by a fresh handshake on a second connection while
 * a steady exchange runs both ways: same lease, the adapter opened once, no
 * datagram lost. A client whose session outlives the server's hard limit is
 * closed (sealed KEY_EXPIRED) and reconnects at once onto the same adapter.
 * A client disabled in the policy is closed at its next rekey (sealed
 * POLICY: it exits), while another client goes on.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_CLIENT_MAC } from '../../../src/lease.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import { ipv4Frame } from '../engine/frames.js';
import { eventually } from '../../support/eventually.js';
import { LAN_HOST, startHarness, type Harness } from '../../support/tunnel-harness.js';
import type { MemoryHost } from '../../support/memory-host.js';
import type { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const count = (host: MemoryHost, src: string, dst: string): number => host.datagrams.filter((d) => d.source === ipToNumber(src) && d.destination === ipToNumber(dst)).length;
const ipToNumber = (ip: string): number => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);

describe('session renewal and re-authorization', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it('at its maximum age a session is renewed twice under a steady exchange: same lease, one adapter, nothing lost', async () => {
    harness = await startHarness(['alice']);
    const { server, serverHost } = harness;
    const alice = harness.startClient('alice', '198.51.100.1', { sessionMaxAgeMs: 600, random: () => 0 });
    await eventually('alice up', () => alice.core.pseudoAdapter !== undefined && server.activeTunnels === 1, 10_000);
    const address = await alice.host().takeLease();
    const connections = [alice.core.driver];
    let sentUp = 0;
    let sentDown = 0;
    const deadline = Date.now() + 20_000;
    while (alice.core.monitor.snapshot({}).renewals < 2 && Date.now() < deadline) {
      alice.host().ping(address, LAN_HOST);
      sentUp++;
      serverHost.device.writeFrames([ipv4Frame({ dstMac: DEFAULT_CLIENT_MAC, srcMac: '02:00:00:00:00:53', src: LAN_HOST, dst: address })]);
      sentDown++;
      alice.core.tick();
      server.tick();
      if (alice.core.driver !== connections.at(-1)) connections.push(alice.core.driver);
      await sleep(20);
    }
    assert.equal(alice.core.monitor.snapshot({}).renewals, 2, 'two renewals within the bound');
    if (alice.core.driver !== connections.at(-1)) connections.push(alice.core.driver);
    for (let i = 0; i < 10; i++, sentUp++) alice.host().ping(address, LAN_HOST); // and on after the second one
    await eventually('every datagram up arrived', () => count(serverHost, address, LAN_HOST) === sentUp, 5_000);
    await eventually('every datagram down arrived', () => count(alice.host(), LAN_HOST, address) === sentDown, 5_000);
    assert.equal(alice.adapterOpens, 1, 'the adapter was opened once');
    assert.equal(alice.core.lease?.address, address);
    assert.equal(alice.core.monitor.snapshot({}).reconnects, 0);
    assert.equal(server.activeTunnels, 1);
    // The replaced connections are closed by the server (sealed REPLACED after its grace, on a real clock).
    assert.equal(connections.length, 3);
    for (const replaced of connections.slice(0, 2)) {
      await eventually('a replaced connection closed by the server', () => replaced.machine.state === 'dead', 5_000);
      assert.equal(replaced.machine.closeCode, CloseCode.REPLACED);
    }
  });

  it('a session past the server\'s hard limit is closed KEY_EXPIRED and reconnects at once on the same adapter and lease', async () => {
    harness = await startHarness(['alice'], { server: { sessionHardLimitMs: 300 } });
    const { server } = harness;
    const alice = harness.startClient('alice', '198.51.100.1'); // no renewal of its own
    await eventually('alice up', () => alice.core.pseudoAdapter !== undefined && server.activeTunnels === 1, 10_000);
    const address = alice.core.lease!.address;
    await eventually('the server closed the old session', () => {
      server.tick();
      return alice.core.monitor.snapshot({}).lastClose !== undefined;
    }, 5_000);
    const { lastClose } = alice.core.monitor.snapshot({});
    assert.equal(lastClose?.code, 'KEY_EXPIRED');
    assert.equal(lastClose?.by, 'peer', 'sealed: the client knows it is the server\'s');
    assert.match(lastClose?.reason ?? '', /fresh handshake is due/);
    await eventually('alice back up', () => {
      alice.core.tick();
      return alice.core.driver.machine.state === 'authorized' && server.activeTunnels === 1;
    }, 5_000);
    assert.equal(alice.adapterOpens, 1);
    assert.equal(alice.core.lease?.address, address);
  });

  it('a client disabled in the policy is closed at its next rekey (sealed POLICY: it stops); another client goes on', async () => {
    harness = await startHarness(['alice', 'bob']);
    const { server } = harness;
    const rekeying = { lifetime: { maxAgeMs: 300 } };
    const alice = harness.startClient('alice', '198.51.100.1', { machine: rekeying });
    const bob = harness.startClient('bob', '198.51.100.2', { machine: rekeying });
    await eventually('both up', () => server.activeTunnels === 2, 10_000);
    // Only the policy changes (no reload sweep): the rekey check alone must find it.
    server.policy.reload(harness.configWith({ alice: { enabled: false }, bob: {} }));
    let aliceStopped = false;
    void alice.core.done.then(() => (aliceStopped = true));
    await eventually('alice closed at her rekey', () => {
      alice.core.tick();
      bob.core.tick();
      server.tick();
      return alice.core.driver.machine.state === 'dead';
    }, 5_000);
    assert.equal(alice.core.driver.machine.closeCode, CloseCode.POLICY);
    assert.ok(((alice.core.driver.machine as InitiatorMachine).session?.stats.rekeysSent ?? 1) >= 1, 'she had rekeyed');
    await eventually('alice stops for good (an authenticated refusal)', () => aliceStopped, 5_000);
    assert.equal(bob.core.driver.machine.state, 'authorized');
    assert.ok(((bob.core.driver.machine as InitiatorMachine).session?.stats.rekeysSent ?? 0) >= 1, 'bob rekeyed too and stayed');
    assert.equal(server.activeTunnels, 1);
  });
});
