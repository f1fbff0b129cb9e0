/**
 * The replay attack across a server restart (issue 10, item 4), with the real
 * crypto: a REQUEST recorded on the wire is replayed to a restarted server.
 * With the in-memory TimestampGuard the restarted server accepts it (the
 * attack as it was); with LeaseReplayGuard, whose timestamps live in the
 * lease file, it is refused, and the client's own next REQUEST still works.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateKeyPair, realCrypto, TimestampGuard } from '../../../src/crypto/index.js';
import { keysEqual } from '../../../src/crypto/keys.js';
import type { ReplayGuard } from '../../../src/crypto/port.js';
import { DEFAULT_GATEWAY_MAC } from '../../../src/lease.js';
import { CloseCode } from '../../../src/protocol/frames/index.js';
import type { Action } from '../../../src/protocol/machines/actions.js';
import { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import { ServerMachine } from '../../../src/protocol/machines/server.js';
import { LeaseStore, parseLeaseFile, type LeasePool } from '../../../src/server/leases.js';
import { LeaseReplayGuard } from '../../../src/server/replay-guard.js';

const SERVER = 'vpn.example:7000';
const POOL: LeasePool = { network: '10.77.0.0', prefixLength: 24, gateway: '10.77.0.1', fixed: new Map() };
const serverKeys = generateKeyPair();
const aliceKeys = generateKeyPair();
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tapvpn-replay-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function server(replayGuard: ReplayGuard): ServerMachine {
  const machine = new ServerMachine({
    crypto: realCrypto,
    local: serverKeys,
    replayGuard,
    names: [SERVER],
    authorize: ({ name, publicKey }) =>
      name === 'alice' && keysEqual(publicKey, aliceKeys.publicKey)
        ? { ok: true, lease: { address: '10.77.0.2', prefixLength: 24, gateway: '10.77.0.1', routes: [], dnsServers: [], mtu: 1400, leaseTimeSec: 600, gatewayMac: DEFAULT_GATEWAY_MAC } }
        : { ok: false, code: CloseCode.AUTHENTICATION_FAILURE },
  });
  machine.handle({ type: 'accepted' }, 0);
  return machine;
}

/** What the client puts on the wire for one connection: RELAY and REQUEST (the prologue binds them together). */
function clientHello(nowMs: number): Uint8Array[] {
  const client = new InitiatorMachine({ crypto: realCrypto, local: aliceKeys, serverPublicKey: serverKeys.publicKey, name: 'alice', path: [SERVER], reconnect: false });
  client.handle({ type: 'start' }, nowMs);
  const sent = client.handle({ type: 'tcpOpened' }, nowMs).filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send');
  return sent.map((a) => a.frame.slice());
}

function deliver(machine: ServerMachine, frames: Uint8Array[]): void {
  for (const frame of frames) machine.handle({ type: 'frame', frame }, 1);
}

test('a REQUEST recorded before a restart is refused after it: the last timestamp per client lives with the leases', async () => {
  const file = join(dir, 'leases.json');
  const recorded = clientHello(0);
  const first = await LeaseStore.open(POOL, file);
  const live = server(new LeaseReplayGuard(first));
  deliver(live, recorded);
  assert.equal(live.state, 'authorized');
  await first.flush();
  const stored = parseLeaseFile(await readFile(file, 'utf8'));
  assert.ok(typeof stored !== 'string' && stored.handshakes?.[Buffer.from(aliceKeys.publicKey).toString('hex')]?.length === 24);

  // The attack as it was: an in-memory guard forgets on restart and takes the replay.
  const forgetful = server(new TimestampGuard());
  deliver(forgetful, recorded);
  assert.equal(forgetful.state, 'authorized', 'the replay succeeds against an in-memory guard after a restart');

  // Restarted with the guard in the lease file: refused.
  const restarted = await LeaseStore.open(POOL, file);
  const replayed = server(new LeaseReplayGuard(restarted));
  deliver(replayed, recorded);
  assert.notEqual(replayed.state, 'authorized');
  assert.equal(replayed.closeCode, CloseCode.STALE_TIMESTAMP);
  assert.match(replayed.closeReason, /not newer/);

  // The real client's next handshake carries a later timestamp and is accepted.
  await new Promise((resolve) => setTimeout(resolve, 2)); // TAI64N has ns resolution; a later wall clock reading
  const fresh = server(new LeaseReplayGuard(restarted));
  deliver(fresh, clientHello(0));
  assert.equal(fresh.state, 'authorized');
});

test('the lease file refuses malformed handshake entries (the whole file is moved aside, as for any corruption)', () => {
  const ok = JSON.stringify({ version: 1, leases: {}, handshakes: { ['ab'.repeat(32)]: '00'.repeat(12) } });
  assert.equal(typeof parseLeaseFile(ok), 'object');
  for (const handshakes of [[], { short: '00'.repeat(12) }, { ['ab'.repeat(32)]: 'zz' }, { ['AB'.repeat(32)]: '00'.repeat(12) }, { ['ab'.repeat(32)]: 5 }]) {
    assert.equal(typeof parseLeaseFile(JSON.stringify({ version: 1, leases: {}, handshakes })), 'string', JSON.stringify(handshakes));
  }
});
