/**
 * The REKEY flood (issue 10, item 1), performed with the real crypto: an
 * authorized peer sends 10,000 REKEY frames. Before, each REKEY re-derived
 * both directions' chains from generation 0 (quadratic: 1,500 REKEYs held
 * the server's thread for seconds). Now the peer is closed once it exceeds
 * the REKEY budget, and every REKEY accepted before that, however high the
 * generation, costs exactly one ratchet step and one key derivation, of the
 * receive direction only. Costs are counted, never timed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyDerivationCounts } from '../../../src/crypto/data-keys.js';
import { realCrypto } from '../../../src/crypto/index.js';
import { CloseCode } from '../../../src/protocol/frames/index.js';
import { REKEY_BURST, REKEY_INTERVAL_MS, REKEY_RECEIVE_SLACK } from '../../../src/protocol/rekey-budget.js';
import { TunnelSession } from '../../../src/protocol/session.js';
import type { SuiteName } from '../../../src/crypto/port.js';

const ATTACK_REKEYS = 10_000;

function pair(suite: SuiteName, lifetime?: { maxFrames: number }) {
  const a = new Uint8Array(randomBytes(32));
  const b = new Uint8Array(randomBytes(32));
  const h = new Uint8Array(randomBytes(32));
  const attacker = new TunnelSession({ crypto: realCrypto, suite, keys: { sendKey: a.slice(), receiveKey: b.slice(), handshakeHash: h }, nowMs: 0, inBandRekey: true, lifetime });
  const victim = new TunnelSession({ crypto: realCrypto, suite, keys: { sendKey: b.slice(), receiveKey: a.slice(), handshakeHash: h }, nowMs: 0, inBandRekey: true, lifetime });
  return { attacker, victim };
}

/** The attacker's REKEY frames, sealed one by one as the victim reads them (a victim that refused stops reading). */
function* rekeyFrames(attacker: TunnelSession, count: number, spacingMs: number): Generator<{ frame: Uint8Array; nowMs: number }> {
  for (let i = 0; i < count; i++) yield { frame: attacker.sealRekey(i * spacingMs), nowMs: i * spacingMs };
}

/** The victim's derivations only: the attacker's own sealing (same process) is left out of the count. */
class VictimCost {
  chainSteps = 0;
  keyDerivations = 0;
  run<T>(step: () => T): T {
    const before = { ...keyDerivationCounts };
    const result = step();
    this.chainSteps += keyDerivationCounts.chainSteps - before.chainSteps;
    this.keyDerivations += keyDerivationCounts.keyDerivations - before.keyDerivations;
    return result;
  }
}

describe('REKEY flood from an authorized peer', () => {
  for (const suite of realCrypto.suites) {
    it(`${ATTACK_REKEYS} REKEYs at once: the peer is refused (REKEY_RATE → CLOSE PROTOCOL_ERROR) after the budget, at one derivation each (${suite})`, () => {
      const { attacker, victim } = pair(suite);
      const cost = new VictimCost();
      let refused: { i: number; error: NonNullable<ReturnType<TunnelSession['openRekey']>> } | undefined;
      let i = 0;
      for (const { frame, nowMs } of rekeyFrames(attacker, ATTACK_REKEYS, 0)) {
        const error = cost.run(() => victim.openRekey(frame, nowMs));
        if (error) {
          refused = { i, error };
          break; // the machine closes the connection here: nothing more is read
        }
        i++;
      }
      const allowed = REKEY_BURST + REKEY_RECEIVE_SLACK;
      assert.equal(refused?.i, allowed, 'refused at the first REKEY over the budget');
      assert.equal(refused?.error.code, 'REKEY_RATE');
      assert.equal(refused?.error.closeCode, CloseCode.PROTOCOL_ERROR);
      assert.equal(cost.chainSteps, allowed);
      assert.equal(cost.keyDerivations, allowed);
      assert.equal(victim.receiveKeyId, allowed);
      assert.equal(victim.sendKeyId, 0, 'the send direction was not touched');
    });

    // The full 10,000 for the default suite; the others show the same per-REKEY count on fewer (each REKEY costs both sides real HKDFs).
    const paced = suite === realCrypto.suites[0] ? ATTACK_REKEYS : ATTACK_REKEYS / 10;
    it(`${paced} REKEYs paced at the budget: all accepted, each one ratchet step and one derivation of the receive direction (${suite})`, () => {
      const { attacker, victim } = pair(suite);
      const cost = new VictimCost();
      const errors = [];
      for (const { frame, nowMs } of rekeyFrames(attacker, paced, REKEY_INTERVAL_MS)) {
        const error = cost.run(() => victim.openRekey(frame, nowMs));
        if (error) errors.push(error);
      }
      assert.deepEqual(errors, []);
      assert.equal(cost.chainSteps, paced, 'O(1) per REKEY: one HMAC each, not one per generation so far');
      assert.equal(cost.keyDerivations, paced);
      assert.equal(victim.receiveKeyId, paced);
      assert.equal(victim.sendKeyId, 0);
      // The last generation still interoperates: the attacker's next DATA opens.
      const datagram = new Uint8Array(64).fill(9);
      const out = new Uint8Array(attacker.maxSealedLength(64));
      const n = attacker.sealDatagram(0x0800, datagram, out, 0, paced * REKEY_INTERVAL_MS);
      const opened = victim.openData(out.subarray(0, n), paced * REKEY_INTERVAL_MS);
      assert.ok(opened.ok);
      assert.deepEqual(opened.datagram, datagram);
    });
  }

  it('a sender whose key expires every frame keeps to its own budget, so its peer never refuses it', () => {
    const { attacker: sender, victim: receiver } = pair('aes-256-gcm', { maxFrames: 1 });
    const datagram = new Uint8Array(100).fill(1);
    const out = new Uint8Array(sender.maxSealedLength(100));
    let delivered = 0;
    for (let i = 0; i < 1000; i++) {
      const nowMs = i; // 1000 frames in one second: the key wants renewing after every frame
      const n = sender.sealDatagram(0x0800, datagram, out, 0, nowMs);
      if (n === 0) continue; // dropped before sealing: the key is exhausted and the budget is spent
      for (let at = 0; at < n; ) {
        const length = new DataView(out.buffer, at, 4).getUint32(0);
        const frame = out.subarray(at, at + length);
        const result = frame[4] === 7 ? receiver.openRekey(frame, nowMs) : receiver.openData(frame, nowMs);
        if (result && 'ok' in result) {
          assert.ok(result.ok, `frame ${i}`);
          delivered++;
        } else assert.equal(result, undefined, `REKEY before frame ${i}`);
        at += length;
      }
    }
    assert.ok(sender.stats.rekeysSent <= REKEY_BURST + 1000 / REKEY_INTERVAL_MS, `${sender.stats.rekeysSent} REKEYs sent`);
    assert.equal(receiver.stats.rekeysReceived, sender.stats.rekeysSent);
    assert.equal(delivered, sender.stats.framesSent - sender.stats.rekeysSent);
    assert.ok(sender.stats.dropsKeyExhausted > 0, 'frames beyond the hard lifetime were dropped, not sealed under a worn key');
  });

  it('the session wipes the handshake keys it was given', () => {
    const keys = { sendKey: new Uint8Array(randomBytes(32)), receiveKey: new Uint8Array(randomBytes(32)), handshakeHash: new Uint8Array(32) };
    new TunnelSession({ crypto: realCrypto, suite: 'aes-256-gcm', keys, nowMs: 0, inBandRekey: true });
    assert.ok(keys.sendKey.every((b) => b === 0));
    assert.ok(keys.receiveKey.every((b) => b === 0));
  });
});
