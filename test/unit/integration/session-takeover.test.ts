/**
 * Issue 10 item 4: a new connection of a connected client replaces the live
 * tunnel only once it has sent a frame its session verified. The attack:
 * alice's RELAY and REQUEST, captured on the wire, are sent again on a new
 * connection to a server whose replay guard forgot them (a lost lease file).
 * The server authorizes the copy — it cannot tell — but the copy never sends
 * an authenticated frame (whoever sent it cannot read the RESPONSE), so
 * alice's tunnel stays, both ways. A genuine reconnect still takes over at
 * once (the client sends a KEEPALIVE right after the RESPONSE).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ByteStream } from '../../../src/io/byte-stream.js';
import { DEFAULT_CLIENT_MAC } from '../../../src/lease.js';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { FrameType } from '../../../src/protocol/frames/header.js';
import { ipv4Frame } from '../engine/frames.js';
import { eventually } from '../../support/eventually.js';
import { LAN_HOST, startHarness, type Harness, type RunningClient } from '../../support/tunnel-harness.js';

describe('a new connection replaces a live tunnel only after an authenticated frame', () => {
  let harness: Harness;
  let alice: RunningClient;
  let address: string;
  let capturing = true;
  const captured: Buffer[] = [];

  before(async () => {
    const forgetful = { accept: () => true, lastAccepted: () => undefined }; // a replay guard that lost its table
    harness = await startHarness(['alice'], {
      replayGuard: forgetful,
      listener: {
        intercept: (from, chunk) => {
          if (capturing && from === 0) captured.push(Buffer.from(chunk));
          return chunk;
        },
      },
    });
  });

  after(() => harness.stop());

  it('alice connects; her RELAY and REQUEST are captured on the way', async () => {
    alice = harness.startClient('alice', '198.51.100.1');
    await eventually('alice authorized', () => alice.core.pseudoAdapter !== undefined && harness.server.activeTunnels === 1, 10_000);
    capturing = false;
    address = await alice.host().takeLease();
  });

  it('the replayed REQUEST is authorized on its own connection but does not take alice\'s tunnel', async () => {
    const frames: Uint8Array[] = [];
    new FrameDecoder().push(Buffer.concat(captured), (frame) => frames.push(frame.slice()));
    const [relay, request] = frames;
    assert.equal(relay?.[4], FrameType.RELAY);
    assert.equal(request?.[4], FrameType.REQUEST);

    const replayed: Uint8Array[] = [];
    const stream = await new Promise<ByteStream>((resolve, reject) =>
      harness.listener.dialFrom('203.0.113.66')('vpn.test:5555', (outcome) => (outcome.ok ? resolve(outcome.stream) : reject(new Error(outcome.reason)))),
    );
    stream.on('data', (chunk: Buffer) => new FrameDecoder().push(chunk, (frame) => replayed.push(frame.slice())));
    stream.write(relay!);
    stream.write(request!);
    await eventually('the server answers the copy with a RESPONSE (it authorized it)', () => replayed.some((f) => f[4] === FrameType.RESPONSE), 5_000);
    assert.equal(harness.server.connectionCount, 2);

    // Alice's tunnel is still the one the server routes to, both ways.
    alice.host().ping(address, LAN_HOST);
    await harness.serverHost.expect(address, LAN_HOST, 'alice → LAN after the replay');
    harness.serverHost.device.writeFrames([ipv4Frame({ dstMac: DEFAULT_CLIENT_MAC, srcMac: '02:00:00:00:00:53', src: LAN_HOST, dst: address })]);
    await alice.host().expect(LAN_HOST, address, 'LAN → alice after the replay');
    assert.equal(alice.core.driver.machine.state, 'authorized');
    assert.equal(harness.server.activeTunnels, 1);
    stream.destroy();
    await eventually('the copy\'s connection freed', () => harness.server.connectionCount === 1, 5_000);
    assert.equal(alice.core.driver.machine.state, 'authorized', 'the copy going away leaves alice alone');
  });

  it('a genuine new connection of alice takes over at once and keeps her address', async () => {
    const second = harness.startClient('alice', '198.51.100.9');
    const lastClose = () => alice.core.monitor.snapshot({}).lastClose;
    await eventually('the old tunnel closed REPLACED, sealed', () => lastClose()?.code === 'REPLACED' && lastClose()?.by === 'peer', 5_000);
    await alice.core.stop();
    assert.equal(await second.host().takeLease(), address);
    second.host().ping(address, '192.168.60.11');
    await harness.serverHost.expect(address, '192.168.60.11', 'a ping through the new tunnel');
  });
});
