/**
 * Every event in every stable state of the three machines, legal or not:
 * nothing throws; an event the state does not allow closes with
 * PROTOCOL_ERROR (a CLOSE frame when connected, then the close action);
 * events after the close (dying/dead) are ignored. Plus the legal
 * transitions not covered by the pipe tests (timeouts, failures, reconnect).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode, FrameType, ProtocolError, parseClose } from '../../../src/protocol/frames/index.js';
import type { TunnelSession } from '../../../src/protocol/session.js';
import { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import { RelayMachine } from '../../../src/protocol/machines/relay.js';
import { ServerMachine } from '../../../src/protocol/machines/server.js';
import type { Action } from '../../../src/protocol/machines/actions.js';
import { createFakeCrypto, fakeKeyPair, FakeTimestampGuard } from './fake-crypto.js';
import { fixture } from './fixtures.js';
import { makePipe } from './setup.js';

const FRAMES = {
  RELAY: fixture('relay.hex'), REQUEST: fixture('request.hex'), RESPONSE: fixture('response.hex'), DATA: fixture('data.hex'),
  CLOSE: fixture('close.hex'), KEEPALIVE: fixture('keepalive.hex'), REKEY: fixture('rekey.hex'),
};
type FrameName = keyof typeof FRAMES;
const FRAME_NAMES = Object.keys(FRAMES) as FrameName[];
const decodeError = new ProtocolError('FRAME_TOO_LARGE', 'test');

function closeOf(actions: Action[]): Extract<Action, { type: 'close' }> | undefined {
  return actions.find((a): a is Extract<Action, { type: 'close' }> => a.type === 'close');
}

/** The other end of an authorized machine, to open the SEALED_CLOSE it sends. */
const PEERS = new WeakMap<object, { session: TunnelSession | undefined }>();

function assertProtocolError(actions: Action[], connected: boolean, label: string, machine?: object): void {
  const close = closeOf(actions);
  assert.equal(close?.code, CloseCode.PROTOCOL_ERROR, label);
  const status = (frame: Uint8Array): number => {
    if (frame[4] !== FrameType.SEALED_CLOSE) return parseClose(frame).status;
    const opened = PEERS.get(machine!)!.session!.openClose(frame); // once authorized, CLOSE is sealed: only the peer can read it
    return opened.ok ? opened.close.status : -1;
  };
  const sent = actions.filter((a) => a.type === 'send').map((a) => (a.type === 'send' ? status(a.frame) : -1));
  if (connected) assert.ok(sent.includes(CloseCode.PROTOCOL_ERROR), `${label}: CLOSE sent`);
}

// ---- initiator ----
const crypto = createFakeCrypto();
const newInitiator = () => new InitiatorMachine({ crypto, local: fakeKeyPair('alice'), serverPublicKey: fakeKeyPair('server').publicKey, name: 'alice', path: ['vpn.example:7000'] });
const INITIATOR_IN: Record<string, () => InitiatorMachine> = {
  idle: newInitiator,
  'tcp-open': () => { const m = newInitiator(); m.handle({ type: 'start' }, 0); return m; },
  'response-wait': () => { const m = newInitiator(); m.handle({ type: 'start' }, 0); m.handle({ type: 'tcpOpened' }, 0); return m; },
  authorized: () => { const p = makePipe(); p.event(0, { type: 'start' }); PEERS.set(p.client, p.server); return p.client; },
  dying: () => { const m = newInitiator(); m.handle({ type: 'start' }, 0); m.handle({ type: 'closeRequested' }, 0); return m; },
  dead: () => { const m = newInitiator(); m.handle({ type: 'start' }, 0); m.handle({ type: 'closeRequested' }, 0); m.handle({ type: 'tcpClosed' }, 0); return m; },
};
const INITIATOR_ILLEGAL: Record<string, string[]> = {
  idle: ['tcpOpened', ...FRAME_NAMES],
  'tcp-open': ['start', ...FRAME_NAMES],
  'response-wait': ['start', 'tcpOpened', 'RELAY', 'REQUEST', 'DATA', 'KEEPALIVE', 'REKEY'],
  authorized: ['start', 'tcpOpened', 'RELAY', 'REQUEST', 'RESPONSE'],
  dying: [],
  dead: [],
};
const INITIATOR_EVENTS = ['start', 'tcpOpened', 'tick', 'closeRequested', 'tcpClosed', 'decodeError', ...FRAME_NAMES];

function initiatorEvent(name: string) {
  if (name in FRAMES) return { type: 'frame' as const, frame: FRAMES[name as FrameName].slice() };
  if (name === 'decodeError') return { type: 'decodeError' as const, error: decodeError };
  return { type: name } as { type: 'start' };
}

describe('initiator: every event in every state', () => {
  for (const [state, make] of Object.entries(INITIATOR_IN)) {
    for (const event of INITIATOR_EVENTS) {
      it(`${state} + ${event}`, () => {
        const m = make();
        assert.equal(m.state, state);
        const actions = m.handle(initiatorEvent(event), 1);
        if (INITIATOR_ILLEGAL[state]!.includes(event)) {
          assertProtocolError(actions, state !== 'idle' && state !== 'tcp-open', `${state} + ${event}`, m);
          assert.ok(m.state === 'dying' || m.state === 'dead');
        } else if (state === 'dying' || (state === 'dead' && event !== 'start')) {
          assert.ok(actions.every((a) => a.type !== 'send'), 'nothing sent after close');
        }
      });
    }
  }
  it('handshake timeout closes with TIMEOUT and reconnects with backoff (decorrelated jitter, src/util/backoff.ts)', () => {
    const m = new InitiatorMachine({ crypto, local: fakeKeyPair('alice'), serverPublicKey: fakeKeyPair('server').publicKey, name: 'alice', path: ['vpn.example:7000'], reconnect: { minDelayMs: 1000, maxDelayMs: 60_000, random: () => 0.5 } });
    m.handle({ type: 'start' }, 0);
    m.handle({ type: 'tcpOpened' }, 0);
    assert.deepEqual(m.handle({ type: 'tick' }, 9_999), []);
    assert.equal(closeOf(m.handle({ type: 'tick' }, 10_000))?.code, CloseCode.TIMEOUT);
    assert.deepEqual(m.handle({ type: 'tcpClosed' }, 10_001).filter((a) => a.type === 'reconnect'), [{ type: 'reconnect', delayMs: 2000 }]); // uniform in [1000, 3000], draw 0.5
    m.handle({ type: 'start' }, 11_000);
    const refused = m.handle({ type: 'tcpClosed' }, 11_001); // connect refused: straight to dead
    assert.deepEqual(refused.map((a) => a.type), ['close', 'reconnect']);
    assert.deepEqual(refused[1], { type: 'reconnect', delayMs: 3500 }); // uniform in [1000, 6000], draw 0.5
    assert.equal(m.state, 'dead');
  });
  it('a garbage RESPONSE is an authentication failure, a truncated one a protocol error', () => {
    const m = INITIATOR_IN['response-wait']!();
    assert.equal(closeOf(m.handle({ type: 'frame', frame: FRAMES.RESPONSE }, 1))?.code, CloseCode.AUTHENTICATION_FAILURE);
    const t = INITIATOR_IN['response-wait']!();
    assert.equal(closeOf(t.handle({ type: 'frame', frame: FRAMES.RESPONSE.subarray(0, 20) }, 1))?.code, CloseCode.PROTOCOL_ERROR);
  });
  it('a decoder error closes with its own code', () => {
    const m = INITIATOR_IN.authorized!();
    assert.equal(closeOf(m.handle({ type: 'decodeError', error: decodeError }, 1))?.code, CloseCode.FRAME_TOO_LARGE);
  });
  it('has no session (nothing for the data plane to seal with) outside authorized', () => {
    assert.equal(newInitiator().session, undefined);
    assert.ok(INITIATOR_IN.authorized!().session);
  });
  it('a DATA frame reaching the control machine is an internal error, not a delivery', () => {
    const m = INITIATOR_IN.authorized!();
    assert.equal(closeOf(m.handle({ type: 'frame', frame: FRAMES.DATA }, 1))?.code, CloseCode.INTERNAL_ERROR);
  });
});

// ---- server ----
const newServer = () => new ServerMachine({
  crypto, local: fakeKeyPair('server'), replayGuard: new FakeTimestampGuard(), names: ['vpn.example:7000'],
  authorize: () => ({ ok: false, code: CloseCode.POLICY }),
});
const SERVER_IN: Record<string, () => ServerMachine> = {
  'accept-wait': newServer,
  'receive-relay': () => { const m = newServer(); m.handle({ type: 'accepted' }, 0); return m; },
  'connect-wait': () => { const m = SERVER_IN['receive-relay']!(); m.handle({ type: 'frame', frame: FRAMES.RELAY }, 0); return m; },
  authorized: () => { const p = makePipe(); p.event(0, { type: 'start' }); PEERS.set(p.server, p.client); return p.server; },
  dying: () => { const m = SERVER_IN['receive-relay']!(); m.handle({ type: 'closeRequested' }, 0); return m; },
  dead: () => { const m = SERVER_IN.dying!(); m.handle({ type: 'tcpClosed' }, 0); return m; },
};
const SERVER_ILLEGAL: Record<string, string[]> = {
  'accept-wait': FRAME_NAMES,
  'receive-relay': ['accepted', 'REQUEST', 'RESPONSE', 'DATA', 'KEEPALIVE', 'REKEY'],
  'connect-wait': ['accepted', 'RELAY', 'RESPONSE', 'DATA', 'KEEPALIVE', 'REKEY'],
  authorized: ['accepted', 'RELAY', 'REQUEST', 'RESPONSE'],
  dying: [],
  dead: [],
};
describe('server: every event in every state', () => {
  for (const [state, make] of Object.entries(SERVER_IN)) {
    for (const event of ['accepted', 'tick', 'closeRequested', 'tcpClosed', 'decodeError', ...FRAME_NAMES]) {
      it(`${state} + ${event}`, () => {
        const m = make();
        assert.equal(m.state, state);
        const actions = m.handle(initiatorEvent(event) as never, 1);
        if (SERVER_ILLEGAL[state]!.includes(event)) {
          assertProtocolError(actions, state !== 'accept-wait', `${state} + ${event}`, m);
          assert.equal(m.state, 'dying');
        } else if (state === 'dying' || state === 'dead') {
          assert.deepEqual(actions, []);
        }
      });
    }
  }
  it('a REQUEST that does not decrypt is an authentication failure', () => {
    const m = SERVER_IN['connect-wait']!();
    assert.equal(closeOf(m.handle({ type: 'frame', frame: FRAMES.REQUEST }, 1))?.code, CloseCode.AUTHENTICATION_FAILURE);
  });
  it('a path that ends elsewhere is a routing failure; slow clients time out', () => {
    const m = SERVER_IN['receive-relay']!();
    const other = Uint8Array.from(FRAMES.RELAY);
    other[other.length - 2] = 0x31; // port 7000 → 7010
    assert.equal(closeOf(m.handle({ type: 'frame', frame: other }, 1))?.code, CloseCode.ROUTING_FAILURE);
    const slow = SERVER_IN['connect-wait']!();
    assert.equal(closeOf(slow.handle({ type: 'tick' }, 10_000))?.code, CloseCode.TIMEOUT);
  });
  it('a client the authorize function refuses gets its code (POLICY)', () => {
    const p = makePipe({ server: { authorize: () => ({ ok: false, code: CloseCode.POLICY, reason: 'disabled' }) } });
    p.event(0, { type: 'start' });
    assert.equal(p.client.closeCode, CloseCode.POLICY);
    assert.equal(p.client.closeReason, 'disabled');
  });
  it('a throwing authorize function is an INTERNAL_ERROR close, not an exception', () => {
    const p = makePipe({ server: { authorize: () => { throw new Error('db down'); } } });
    p.event(0, { type: 'start' });
    assert.equal(p.server.closeCode, CloseCode.INTERNAL_ERROR);
  });
});

// ---- relay ----
const newRelay = () => new RelayMachine({ names: ['relay.example:443'] });
const RELAY_IN: Record<string, () => RelayMachine> = {
  'accept-wait': newRelay,
  'receive-relay': () => { const m = newRelay(); m.handle({ type: 'accepted' }, 0); return m; },
  'forward-connect': () => { const m = RELAY_IN['receive-relay']!(); m.handle({ type: 'frame', from: 'previous', frame: FRAMES.RELAY }, 0); return m; },
  forward: () => { const m = RELAY_IN['forward-connect']!(); m.handle({ type: 'nextConnected' }, 0); return m; },
  dying: () => { const m = RELAY_IN.forward!(); m.handle({ type: 'closeRequested' }, 0); return m; },
  dead: () => { const m = RELAY_IN.dying!(); m.handle({ type: 'tcpClosed', side: 'next' }, 0); return m; },
};
const FROM_PREV = FRAME_NAMES.map((f) => `prev:${f}`);
const FROM_NEXT = FRAME_NAMES.map((f) => `next:${f}`);
const RELAY_ILLEGAL: Record<string, string[]> = {
  'accept-wait': [...FROM_PREV, ...FROM_NEXT, 'nextConnected', 'nextConnectFailed'],
  'receive-relay': ['accepted', ...FROM_PREV.filter((f) => f !== 'prev:RELAY'), ...FROM_NEXT, 'nextConnected', 'nextConnectFailed'],
  'forward-connect': ['accepted', ...FROM_NEXT],
  forward: ['accepted', 'nextConnected', 'nextConnectFailed'],
  dying: [],
  dead: [],
};
function relayEvent(name: string) {
  if (name.includes(':')) {
    const [side, frame] = name.split(':') as ['prev' | 'next', FrameName];
    return { type: 'frame' as const, from: side === 'prev' ? ('previous' as const) : ('next' as const), frame: FRAMES[frame].slice() };
  }
  if (name === 'decodeError') return { type: 'decodeError' as const, side: 'previous' as const, error: decodeError };
  if (name === 'tcpClosed') return { type: 'tcpClosed' as const, side: 'next' as const };
  return { type: name } as { type: 'accepted' };
}
describe('relay: every event in every state', () => {
  for (const [state, make] of Object.entries(RELAY_IN)) {
    for (const event of ['accepted', 'nextConnected', 'nextConnectFailed', 'tick', 'closeRequested', 'tcpClosed', 'decodeError', ...FROM_PREV, ...FROM_NEXT]) {
      it(`${state} + ${event}`, () => {
        const m = make();
        assert.equal(m.state, state);
        const actions = m.handle(relayEvent(event), 1);
        if (RELAY_ILLEGAL[state]!.includes(event)) {
          assertProtocolError(actions, state !== 'accept-wait', `${state} + ${event}`);
          assert.equal(m.state, 'dying');
        } else if (state === 'dying' || state === 'dead') {
          assert.deepEqual(actions, []);
        }
      });
    }
  }
  it('queues what arrives during forward-connect and sends RELAY first, unchanged', () => {
    const m = RELAY_IN['forward-connect']!();
    assert.deepEqual(m.handle({ type: 'frame', from: 'previous', frame: FRAMES.REQUEST }, 1), []);
    const actions = m.handle({ type: 'nextConnected' }, 2);
    assert.deepEqual(actions.map((a) => (a.type === 'send' ? [a.to, a.frame[4]] : a.type)), [['next', 1], ['next', 2]]);
    assert.deepEqual(actions[0]?.type === 'send' && [...actions[0].frame], [...FRAMES.RELAY]);
  });
  it('connects to the hop after its own name; routing failures otherwise', () => {
    const m = RELAY_IN['receive-relay']!();
    assert.deepEqual(m.handle({ type: 'frame', from: 'previous', frame: FRAMES.RELAY }, 0), [{ type: 'connect', address: 'vpn.example:7000' }]);
    const last = new RelayMachine({ names: ['vpn.example:7000'] });
    last.handle({ type: 'accepted' }, 0);
    assert.equal(closeOf(last.handle({ type: 'frame', from: 'previous', frame: FRAMES.RELAY }, 0))?.code, CloseCode.ROUTING_FAILURE);
    const stranger = new RelayMachine({ names: ['other:1'] });
    stranger.handle({ type: 'accepted' }, 0);
    assert.equal(closeOf(stranger.handle({ type: 'frame', from: 'previous', frame: FRAMES.RELAY }, 0))?.code, CloseCode.ROUTING_FAILURE);
    const failed = RELAY_IN['forward-connect']!();
    assert.equal(closeOf(failed.handle({ type: 'nextConnectFailed', reason: 'ECONNREFUSED' }, 0))?.code, CloseCode.ROUTING_FAILURE);
  });
  it('forwards both ways; a CLOSE is forwarded and ends the relay', () => {
    const m = RELAY_IN.forward!();
    assert.deepEqual(m.handle({ type: 'frame', from: 'next', frame: FRAMES.DATA }, 1).map((a) => a.type === 'send' && a.to), ['previous']);
    const actions = m.handle({ type: 'frame', from: 'previous', frame: FRAMES.CLOSE }, 1);
    assert.deepEqual(actions.map((a) => a.type), ['send', 'close']);
    assert.equal(closeOf(actions)?.code, CloseCode.INTEGRITY_FAILURE);
    assert.equal(m.state, 'dying');
  });
  it('bounds what it queues before the path is up', () => {
    const m = new RelayMachine({ names: ['relay.example:443'], maxPendingBytes: 200 });
    m.handle({ type: 'accepted' }, 0);
    m.handle({ type: 'frame', from: 'previous', frame: FRAMES.RELAY }, 0);
    m.handle({ type: 'frame', from: 'previous', frame: FRAMES.REQUEST }, 0);
    assert.equal(closeOf(m.handle({ type: 'frame', from: 'previous', frame: FRAMES.REQUEST }, 0))?.code, CloseCode.PROTOCOL_ERROR);
  });
});
