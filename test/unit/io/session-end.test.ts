/**
 * What a session leaves when it ends (close-delivery.test.ts: how its CLOSE leaves).
 *
 * When a tunnel ends — either side closes, or the TCP connection is cut —
 * the driver destroys the session: every cipher is gone and both key chains
 * are wiped (using them throws), on the client and on the server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realCrypto, TimestampGuard, type ProtocolCrypto } from '../../../src/crypto/index.js';
import type { DataKeySchedule } from '../../../src/crypto/port.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { MachineDriver } from '../../../src/io/driver.js';
import { memoryStreamPair } from '../../../src/io/memory-stream.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import { ServerMachine } from '../../../src/protocol/machines/server.js';
import { eventually } from '../../support/eventually.js';
import { LEASE } from '../protocol/setup.js';

const keys = { server: generateKeyPair(), alice: generateKeyPair() };

/** realCrypto, keeping every key schedule it makes so the test can look at them after the session. */
function recordingCrypto(): { crypto: ProtocolCrypto; schedules: DataKeySchedule[] } {
  const schedules: DataKeySchedule[] = [];
  const crypto: ProtocolCrypto = {
    ...realCrypto,
    createDataKeySchedule: (suite, sessionKeys) => {
      const schedule = realCrypto.createDataKeySchedule(suite, sessionKeys);
      schedules.push(schedule);
      return schedule;
    },
  };
  return { crypto, schedules };
}

async function tunnel() {
  const { crypto, schedules } = recordingCrypto();
  const server = new ServerMachine({ crypto, local: keys.server, replayGuard: new TimestampGuard(), authorize: () => ({ ok: true, lease: LEASE }) });
  const serverDriver = new MachineDriver(server);
  const client = new InitiatorMachine({ crypto, local: keys.alice, serverPublicKey: keys.server.publicKey, name: 'alice', path: ['vpn.example:7000'], reconnect: false });
  const [near, far] = memoryStreamPair();
  const clientDriver = new MachineDriver(client, {
    dial: (_address, done) =>
      setImmediate(() => {
        serverDriver.accept(far);
        done({ ok: true, stream: near });
      }),
  });
  clientDriver.handle({ type: 'start' });
  await eventually('the tunnel is up', () => client.state === 'authorized' && server.state === 'authorized', 5_000);
  assert.equal(schedules.length, 2, 'one key schedule per side');
  return { client, server, clientDriver, serverDriver, near, schedules, sessions: [client.session!, server.session!] };
}

function assertWiped(schedules: DataKeySchedule[]): void {
  for (const schedule of schedules) {
    assert.throws(() => schedule.sealer.seal(new Uint8Array(8), new Uint8Array(1), new Uint8Array(1), new Uint8Array(16)), /used after destroy/, 'the send cipher is gone');
    assert.throws(() => schedule.nextSealer(), /used after wipe/, 'the send chain key is wiped');
    assert.throws(() => schedule.nextOpener(), /used after wipe/, 'the receive chain key is wiped');
  }
}

describe('a session that ends is destroyed on both sides', () => {
  it('when the client closes (SEALED_CLOSE to the server)', async () => {
    const t = await tunnel();
    t.clientDriver.handle({ type: 'closeRequested', code: CloseCode.NORMAL, reason: 'user stop' });
    await eventually('both machines dead', () => t.client.state === 'dead' && t.server.state === 'dead', 5_000);
    assert.equal(t.server.closeCode, CloseCode.NORMAL, 'the server read the sealed CLOSE before its session went');
    assert.ok(t.sessions.every((s) => s.destroyed));
    assertWiped(t.schedules);
  });

  it('when the TCP connection is cut', async () => {
    const t = await tunnel();
    t.near.destroy();
    await eventually('both machines dead', () => t.client.state === 'dead' && t.server.state === 'dead', 5_000);
    assert.ok(t.sessions.every((s) => s.destroyed));
    assertWiped(t.schedules);
  });

  it('when the server closes it (a reload that no longer allows the client)', async () => {
    const t = await tunnel();
    t.serverDriver.handle({ type: 'closeRequested', code: CloseCode.POLICY, reason: 'client no longer authorized' });
    await eventually('both machines dead', () => t.client.state === 'dead' && t.server.state === 'dead', 5_000);
    assert.equal(t.client.closeCode, CloseCode.POLICY);
    assert.ok(t.sessions.every((s) => s.destroyed));
    assertWiped(t.schedules);
  });
});
