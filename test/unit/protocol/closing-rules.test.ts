/**
 * Who may end a client's session for good (issue 10, items 5 and 6), with the
 * real crypto over the in-memory pipe and an attacker on the path (`tamper`):
 * a forged CLOSE of every code, before and after authorization, a flipped
 * bit in any frame header, one corrupted byte anywhere in the REQUEST or the
 * RESPONSE, a forged SEALED_CLOSE — each leaves the client reconnecting
 * (never `final`). Only the server's authenticated refusal (inside its
 * RESPONSE) or its SEALED_CLOSE with a non-retryable code is final. And what
 * the wire shows an observer: no client name in RELAY, no policy detail in a
 * pre-authorization CLOSE.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realCrypto, TimestampGuard, generateKeyPair } from '../../../src/crypto/index.js';
import { keysEqual } from '../../../src/crypto/keys.js';
import { CookieGenerator } from '../../../src/crypto/cookie.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { CloseCode, FrameType, PROTOCOL_VERSION, encodeClose, parseClose, parseRelay } from '../../../src/protocol/frames/index.js';
import type { Action } from '../../../src/protocol/machines/actions.js';
import { InitiatorMachine, REPLACED_HOLD_OFF_MS } from '../../../src/protocol/machines/initiator.js';
import { ServerMachine, type AuthorizeResult } from '../../../src/protocol/machines/server.js';
import type { ReplayGuard } from '../../../src/crypto/port.js';
import { Pipe } from './pipe.js';

const SERVER = 'vpn.example:7000';
const LEASE: Lease = { address: '10.77.0.2', prefixLength: 24, gateway: '10.77.0.1', routes: [], dnsServers: [], mtu: 1400, leaseTimeSec: 600, gatewayMac: DEFAULT_GATEWAY_MAC };
const serverKeys = generateKeyPair();
const aliceKeys = generateKeyPair();
type Tamper = Pipe['tamper'];

interface Options {
  clientKeys?: ReturnType<typeof generateKeyPair>;
  authorize?: (name: string) => AuthorizeResult | undefined;
  replayGuard?: ReplayGuard;
}

function makePipe(opts: Options = {}): Pipe {
  const client = new InitiatorMachine({ crypto: realCrypto, local: opts.clientKeys ?? aliceKeys, serverPublicKey: serverKeys.publicKey, name: 'alice', path: [SERVER], reconnect: { minDelayMs: 1000, maxDelayMs: 60_000 } });
  const server = new ServerMachine({
    crypto: realCrypto,
    local: serverKeys,
    replayGuard: opts.replayGuard ?? new TimestampGuard(),
    names: [SERVER],
    authorize: ({ name, publicKey }) =>
      opts.authorize?.(name) ?? (name === 'alice' && keysEqual(publicKey, aliceKeys.publicKey) ? { ok: true, lease: LEASE } : { ok: false, code: CloseCode.AUTHENTICATION_FAILURE, reason: 'unknown client or wrong key' }),
  });
  return new Pipe([client, server]);
}

function clientCloses(pipe: Pipe): Extract<Action, { type: 'close' }>[] {
  return pipe.closes(0);
}

/** The client ended this connection but will try again: no close of it was final, and a reconnect is scheduled. */
function assertRetries(pipe: Pipe, label: string): void {
  const closes = clientCloses(pipe);
  assert.ok(closes.length > 0, `${label}: the client closed`);
  assert.ok(closes.every((c) => c.final !== true), `${label}: nothing final (${closes.map((c) => `${c.code} ${c.reason}`).join('; ')})`);
  assert.ok(pipe.actions[0]!.some((a) => a.type === 'reconnect'), `${label}: reconnect scheduled`);
}

/** No close of the client was final, and any close is followed by a reconnect. */
function assertNeverFinal(pipe: Pipe, label: string): void {
  const closes = clientCloses(pipe);
  assert.ok(closes.every((c) => c.final !== true), `${label}: nothing final`);
  if (closes.length > 0) assert.ok(pipe.actions[0]!.some((a) => a.type === 'reconnect'), `${label}: reconnect scheduled`);
}

/** Runs a handshake with `tamper` on the wire, then lets time pass until every timeout has fired. */
function attempt(tamper: Tamper, opts: Options = {}): Pipe {
  const pipe = makePipe(opts);
  pipe.tamper = tamper;
  pipe.event(0, { type: 'start' });
  for (const t of [11_000, 22_000, 45_000]) pipe.tick(t); // handshake timeout, linger, dead peer
  return pipe;
}

const CODES = [...Object.values(CloseCode), 99];

describe('the closing rules: only an authenticated refusal is final', () => {
  it('a forged CLOSE of every code in place of the RESPONSE: the client retries', () => {
    for (const code of CODES) {
      const pipe = attempt((_l, right, frame) => (!right && frame[4] === FrameType.RESPONSE ? encodeClose({ status: code, reason: 'client is disabled' }) : frame));
      assertRetries(pipe, `forged pre-auth CLOSE ${code}`);
    }
  });

  it('a forged CLOSE of every code injected once the tunnel is up: the client retries', () => {
    for (const code of CODES) {
      const pipe = makePipe();
      pipe.event(0, { type: 'start' });
      assert.equal(pipe.client.state, 'authorized');
      pipe.event(0, { type: 'frame', frame: encodeClose({ status: code, reason: 'you are revoked' }) });
      assertRetries(pipe, `forged post-auth CLOSE ${code}`);
      assert.equal(clientCloses(pipe)[0]?.by, 'network', 'reported as the path failing, not as the server');
    }
  });

  it('a flipped bit in the common header of the RESPONSE or of any later frame: the client retries', () => {
    for (const target of [FrameType.RESPONSE, FrameType.KEEPALIVE]) {
      for (let bit = 0; bit < 48; bit++) {
        let done = false;
        const pipe = attempt((_l, right, frame) => {
          if (right || done || frame[4] !== target) return frame;
          done = true;
          const bad = frame.slice();
          bad[bit >> 3]! ^= 0x80 >> (bit & 7);
          return bad;
        });
        assert.ok(done, 'the frame was tampered with');
        // A flipped high length bit leaves the client waiting for a frame that never completes: never final, and retried once it closes.
        assertNeverFinal(pipe, `${target === FrameType.RESPONSE ? 'RESPONSE' : 'KEEPALIVE'} header bit ${bit}`);
      }
    }
  });

  it('one corrupted byte anywhere in the REQUEST or the RESPONSE: the client retries', () => {
    for (const target of [FrameType.REQUEST, FrameType.RESPONSE]) {
      let frameLength = Infinity;
      for (let at = 6; at < frameLength; at++) {
        const pipe = attempt((_l, _right, frame) => {
          if (frame[4] !== target) return frame;
          frameLength = frame.length;
          const bad = frame.slice();
          bad[at]! ^= 1 << (at & 7);
          return bad;
        });
        // mac2 (a REQUEST's last 16 bytes) is read only while the server is under load; flipped now, it changes nothing.
        const inMac2 = target === FrameType.REQUEST && at >= frameLength - 16;
        if (inMac2) {
          assert.equal(pipe.client.state, 'authorized', `REQUEST mac2 byte ${at}: ignored when the server is not under load`);
          continue;
        }
        if (pipe.client.state === 'authorized') assert.fail(`byte ${at} of ${target} flipped and still authorized`);
        assertRetries(pipe, `${target === FrameType.REQUEST ? 'REQUEST' : 'RESPONSE'} byte ${at}`);
      }
    }
  });

  it('a forged SEALED_CLOSE (the attacker has no key): integrity failure, the client retries', () => {
    const pipe = makePipe();
    pipe.event(0, { type: 'start' });
    const forged = new Uint8Array(8 + 16 + 3);
    new DataView(forged.buffer).setUint32(0, forged.length);
    forged.set([FrameType.SEALED_CLOSE, PROTOCOL_VERSION, 0, 16], 4);
    forged.set([0, CloseCode.POLICY, 0], 24);
    pipe.event(0, { type: 'frame', frame: forged });
    assert.equal(clientCloses(pipe)[0]?.code, CloseCode.INTEGRITY_FAILURE);
    assertRetries(pipe, 'forged SEALED_CLOSE');
  });

  it('an unknown key or name is refused with a plain CLOSE, the same for both, and no RESPONSE is sealed for it: the client retries', () => {
    const answers: string[] = [];
    for (const [label, opts] of [['unknown key', { clientKeys: generateKeyPair() }], ['known key, unknown name', { authorize: (name: string) => (name === 'alice' ? { ok: false as const, code: CloseCode.AUTHENTICATION_FAILURE, reason: 'unknown client or wrong key' } : undefined) }]] as const) {
      const onWire: Uint8Array[] = [];
      const pipe = attempt((_l, right, frame) => (right || onWire.push(frame.slice()), frame), opts);
      assert.deepEqual(onWire.map((f) => f[4]), [FrameType.CLOSE], `${label}: only a plain CLOSE comes back, no RESPONSE`);
      answers.push(Buffer.from(onWire[0]!).toString('hex'));
      assert.equal(clientCloses(pipe)[0]?.code, CloseCode.AUTHENTICATION_FAILURE, label);
      assertRetries(pipe, label);
    }
    assert.equal(answers[0], answers[1], 'byte for byte the same answer: no oracle for names');
  });

  it('the server\'s refusal inside its RESPONSE is final: a disabled client, no common suite', () => {
    const cases: [string, Options, number, RegExp][] = [
      ['disabled', { authorize: () => ({ ok: false, code: CloseCode.POLICY, reason: 'client is disabled' }) }, CloseCode.POLICY, /^client is disabled$/],
      ['no common suite', { authorize: () => ({ ok: true, lease: LEASE, suites: [] }) }, CloseCode.NO_COMMON_SUITE, /^none of the offered suites/],
    ];
    for (const [label, opts, code, reason] of cases) {
      const pipe = attempt(undefined, opts);
      const close = clientCloses(pipe)[0];
      assert.equal(close?.code, code, label);
      assert.match(close?.reason ?? '', reason, label);
      assert.equal(close?.by, 'peer', label);
      assert.equal(close?.final, true, label);
      assert.ok(!pipe.actions[0]!.some((a) => a.type === 'reconnect'), `${label}: no reconnect`);
    }
  });

  it('the same refusal with one byte altered on the way is not believed: the client retries', () => {
    const pipe = attempt(
      (_l, right, frame) => {
        if (right || frame[4] !== FrameType.RESPONSE) return frame;
        const bad = frame.slice();
        bad[bad.length - 1]! ^= 1;
        return bad;
      },
      { authorize: () => ({ ok: false, code: CloseCode.POLICY, reason: 'client is disabled' }) },
    );
    assertRetries(pipe, 'altered refusal');
  });

  it('a SEALED_CLOSE from the server is believed: POLICY is final, SHUTTING_DOWN and REPLACED are retried', () => {
    for (const [code, final] of [[CloseCode.POLICY, true], [CloseCode.SHUTTING_DOWN, false], [CloseCode.REPLACED, false]] as const) {
      const pipe = makePipe();
      pipe.event(0, { type: 'start' });
      let onWire: Uint8Array | undefined;
      pipe.tamper = (_l, right, frame) => ((onWire = right ? onWire : frame.slice()), frame);
      pipe.event(1, { type: 'closeRequested', code, reason: 'client no longer authorized' });
      assert.equal(onWire?.[4], FrameType.SEALED_CLOSE, 'CLOSE is sealed once authorized');
      assert.ok(!Buffer.from(onWire!).includes('authorized'), 'the reason is encrypted');
      const close = clientCloses(pipe)[0];
      assert.equal(close?.code, code);
      assert.equal(close?.by, 'peer');
      assert.equal(close?.final === true, final, `code ${code}`);
      assert.equal(pipe.actions[0]!.some((a) => a.type === 'reconnect'), !final);
    }
  });

  it('a sealed REPLACED holds the next reconnect off for REPLACED_HOLD_OFF_MS (two devices with one key must not flap); other retryable closes and a forged REPLACED use the ordinary backoff', () => {
    const reconnectDelay = (pipe: Pipe): number | undefined => {
      const reconnect = pipe.actions[0]!.find((a): a is Extract<Action, { type: 'reconnect' }> => a.type === 'reconnect');
      return reconnect?.delayMs;
    };
    for (const [code, held] of [[CloseCode.REPLACED, true], [CloseCode.SHUTTING_DOWN, false]] as const) {
      const pipe = makePipe();
      pipe.event(0, { type: 'start' });
      pipe.event(1, { type: 'closeRequested', code, reason: 'replaced by a newer connection of the same client' });
      const delay = reconnectDelay(pipe);
      assert.ok(delay !== undefined, `code ${code}: a reconnect is scheduled`);
      assert.equal(delay >= REPLACED_HOLD_OFF_MS, held, `code ${code}: delay ${delay} ms`);
    }
    const forged = makePipe();
    forged.event(0, { type: 'start' });
    forged.event(0, { type: 'frame', frame: encodeClose({ status: CloseCode.REPLACED, reason: 'replaced' }) });
    const delay = reconnectDelay(forged);
    assert.ok(delay !== undefined && delay < REPLACED_HOLD_OFF_MS, `forged REPLACED: delay ${delay} ms`);
  });
});

describe('what an observer sees', () => {
  it('RELAY carries an opaque per-connection origin, never the client\'s name', () => {
    const origins: string[] = [];
    for (let i = 0; i < 2; i++) {
      const pipe = makePipe();
      pipe.tamper = (_l, right, frame) => {
        if (right && frame[4] === FrameType.RELAY) origins.push(parseRelay(frame).origin);
        if (right) assert.ok(!Buffer.from(frame).includes('alice'), `frame type ${frame[4]} carries the name in clear`);
        return frame;
      };
      pipe.event(0, { type: 'start' });
      assert.equal(pipe.server.state, 'authorized');
    }
    assert.equal(origins.length, 2);
    assert.notEqual(origins[0], origins[1]);
    for (const origin of origins) assert.match(origin, /^[0-9a-f]{16}$/);
  });

  it('a pre-authorization CLOSE names only its code; the detail stays in the server\'s log', () => {
    const onWire: Uint8Array[] = [];
    const pipe = attempt((_l, right, frame) => {
      if (!right) onWire.push(frame.slice());
      // Break the REQUEST's Noise message (before its 32 bytes of MACs, mac1 restamped) so the server refuses before authorization.
      if (right && frame[4] === FrameType.REQUEST) {
        const bad = frame.slice();
        bad[bad.length - 33]! ^= 1;
        new CookieGenerator(serverKeys.publicKey).stamp(bad);
        return bad;
      }
      return frame;
    });
    const close = onWire.find((f) => f[4] === FrameType.CLOSE);
    assert.ok(close);
    assert.deepEqual(parseClose(close), { status: CloseCode.AUTHENTICATION_FAILURE, reason: 'authentication failure' });
    assert.match(pipe.server.closeReason, /did not decrypt/);
  });

  it('a refused pool stays the server\'s secret: the client hears only the generic reason, sealed', () => {
    const onWire: Uint8Array[] = [];
    const pipe = attempt((_l, right, frame) => (right || onWire.push(frame.slice()), frame), {
      authorize: () => ({ ok: false, code: CloseCode.POLICY, reason: 'no address available for this client', detail: 'pool 10.77.0.10-10.77.0.20 exhausted' }),
    });
    assert.equal(clientCloses(pipe)[0]?.reason, 'no address available for this client');
    assert.ok(onWire.every((f) => !Buffer.from(f).includes('10.77') && !Buffer.from(f).includes('address')), 'nothing readable on the wire');
    assert.match(pipe.server.closeReason, /pool 10\.77\.0\.10-10\.77\.0\.20 exhausted/);
  });
});

describe('the replay guard', () => {
  it('is consulted only for authorized clients: unknown keys cannot push a real client out of it', () => {
    const seen: string[] = [];
    const inner = new TimestampGuard();
    const guard: ReplayGuard = { accept: (key, ts) => (seen.push(Buffer.from(key).toString('hex')), inner.accept(key, ts)), lastAccepted: (key) => inner.lastAccepted(key) };
    for (let i = 0; i < 5; i++) attempt(undefined, { clientKeys: generateKeyPair(), replayGuard: guard });
    assert.deepEqual(seen, []);
    const pipe = attempt(undefined, { replayGuard: guard });
    assert.equal(pipe.server.state === 'authorized' || pipe.server.closeCode === CloseCode.TIMEOUT, true);
    assert.deepEqual(seen, [Buffer.from(aliceKeys.publicKey).toString('hex')]);
  });
});
