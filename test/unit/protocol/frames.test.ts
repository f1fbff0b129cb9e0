/**
 * Frame codecs: each frame type against its hand-written hex fixture (emit
 * byte-for-byte, parse back), fast-check round-trips, and random input that
 * must never raise anything but a ProtocolError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CloseCode, FrameType, MAX_FRAME_LENGTH, ProtocolError,
  encodeRelay, parseRelay, encodeRequest, parseRequest, encodeRequestBody, parseRequestBody,
  encodeResponse, parseResponse, encodeResponseBody, parseResponseBody, encodeData, parseData,
  emitDataHeader, dataFrameLength, encodeClose, parseClose, encodeKeepalive, parseKeepalive,
  encodeRekey, parseRekey, frameType, FLAG_IN_BAND_REKEY, splitHostPort, encodeRefusalBody, parseRefusal, encodeCookie, parseCookie, PROTOCOL_VERSION,
} from '../../../src/protocol/frames/index.js';
import { fixture, hex, range } from './fixtures.js';

function throwsProtocol(fn: () => unknown, code?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && (code === undefined || e.code === code));
}

describe('frame fixtures', () => {
  it('RELAY', () => {
    const repr = { origin: 'alice', hops: ['relay.example:443', 'vpn.example:7000'] };
    assert.equal(hex(encodeRelay(repr)), hex(fixture('relay.hex')));
    assert.deepEqual(parseRelay(fixture('relay.hex')), repr);
    assert.equal(frameType(fixture('relay.hex')), FrameType.RELAY);
  });
  it('REQUEST and its body', () => {
    const repr = { destination: 'vpn.example:7000', handshake: range(0, 108) };
    assert.equal(hex(encodeRequest(repr)), hex(fixture('request.hex')));
    const parsed = parseRequest(fixture('request.hex'));
    assert.equal(parsed.destination, repr.destination);
    assert.equal(hex(parsed.handshake), hex(repr.handshake));
    assert.equal(hex(parsed.mac1), hex(new Uint8Array(16)), 'mac1 emitted as zeros: the sender stamps it');
    assert.equal(hex(parsed.mac2), hex(new Uint8Array(16)));
    const body = { flags: FLAG_IN_BAND_REKEY, initiatorName: 'alice', suites: [1, 2], clientData: Uint8Array.of(0x68, 0x69) };
    assert.equal(hex(encodeRequestBody(body)), hex(fixture('request-body.hex')));
    assert.deepEqual({ ...parseRequestBody(fixture('request-body.hex')), clientData: [...body.clientData] }, { ...body, clientData: [0x68, 0x69] });
  });
  it('COOKIE', () => {
    assert.equal(hex(encodeCookie({ sealed: range(0xc0, 44) })), hex(fixture('cookie.hex')));
    assert.equal(hex(parseCookie(fixture('cookie.hex')).sealed), hex(range(0xc0, 44)));
    assert.equal(frameType(fixture('cookie.hex')), FrameType.COOKIE);
    throwsProtocol(() => parseCookie(fixture('cookie.hex').subarray(0, 49)), 'BAD_LENGTH');
    throwsProtocol(() => encodeCookie({ sealed: range(0, 43) }), 'BAD_LENGTH');
  });
  it('RESPONSE and its body', () => {
    assert.equal(hex(encodeResponse({ handshake: range(0xa0, 48) })), hex(fixture('response.hex')));
    assert.equal(hex(parseResponse(fixture('response.hex')).handshake), hex(range(0xa0, 48)));
    const body = { flags: FLAG_IN_BAND_REKEY, suite: 2, clientData: Uint8Array.of(0x6f, 0x6b) };
    assert.equal(hex(encodeResponseBody(body)), hex(fixture('response-body.hex')));
    const parsed = parseResponseBody(fixture('response-body.hex'));
    assert.deepEqual([parsed.flags, parsed.suite, hex(parsed.clientData)], [1, 2, '6f6b']);
  });
  it('DATA, built both whole and header-first (zero copy)', () => {
    const parts = { etherType: 0x0800, keyId: 3, paddingLength: 4, digest: range(0xd0, 16), ciphertext: range(0x40, 24) };
    const expected = hex(fixture('data.hex'));
    assert.equal(hex(encodeData(parts)), expected);
    const out = new Uint8Array(100).fill(0xee);
    const at = 7;
    emitDataHeader({ etherType: 0x0800, keyId: 3, paddingLength: 4, digestLength: 16, datagramLength: 20 }, out, at);
    out.set(parts.digest, at + 12);
    out.set(parts.ciphertext, at + 28);
    assert.equal(hex(out.subarray(at, at + dataFrameLength(20, 16, 4))), expected);
    const view = parseData(fixture('data.hex'));
    assert.deepEqual([view.etherType, view.keyId, view.flags, view.paddingLength, view.digestLength], [0x0800, 3, 0, 4, 16]);
    assert.equal(hex(view.header), expected.slice(0, 24));
    assert.equal(hex(view.digest), hex(parts.digest));
    assert.equal(hex(view.ciphertext), hex(parts.ciphertext));
  });
  it('DATA views share the frame memory', () => {
    const frame = fixture('data.hex');
    const view = parseData(frame);
    assert.equal(view.ciphertext.buffer, frame.buffer);
    assert.equal(view.ciphertext.byteOffset, frame.byteOffset + 28);
  });
  it('CLOSE', () => {
    assert.equal(hex(encodeClose({ status: CloseCode.INTEGRITY_FAILURE, reason: 'digest mismatch' })), hex(fixture('close.hex')));
    assert.deepEqual(parseClose(fixture('close.hex')), { status: 6, reason: 'digest mismatch' });
  });
  it('KEEPALIVE and REKEY', () => {
    assert.equal(hex(encodeKeepalive(0, range(0xe0, 16))), hex(fixture('keepalive.hex')));
    const k = parseKeepalive(fixture('keepalive.hex'));
    assert.deepEqual([k.keyId, k.digestLength, hex(k.digest), hex(k.header)], [0, 16, hex(range(0xe0, 16)), '000000180602' + '0010']);
    assert.equal(hex(encodeRekey(1, range(0x20, 32))), hex(fixture('rekey.hex')));
    const r = parseRekey(fixture('rekey.hex'));
    assert.deepEqual([r.keyId, r.digestLength, hex(r.digest)], [1, 32, hex(range(0x20, 32))]);
  });
});

describe('frame validation', () => {
  it('rejects a wrong version, a length that disagrees, an unknown type', () => {
    const bad = fixture('close.hex');
    bad[5] = 1; // a version-1 peer (before REQUEST MACs and COOKIE)
    throwsProtocol(() => parseClose(bad), 'UNSUPPORTED_VERSION');
    throwsProtocol(() => parseClose(fixture('close.hex').subarray(0, 20)), 'BAD_LENGTH');
    const unknown = fixture('close.hex');
    unknown[4] = 99;
    throwsProtocol(() => frameType(unknown), 'UNKNOWN_TYPE');
    throwsProtocol(() => parseRelay(fixture('close.hex')), 'BAD_VALUE');
  });
  it('rejects a RELAY path with a repeated hop (a relay would loop), a bad offset, a missing NUL', () => {
    throwsProtocol(() => encodeRelay({ origin: 'a', hops: ['r:1', 'r:1'] }), 'PATH_LOOP');
    const frame = fixture('relay.hex');
    frame[13] = 6; // hop 1 offset → hop 0's name
    throwsProtocol(() => parseRelay(frame), 'PATH_LOOP');
    const outside = fixture('relay.hex');
    outside[13] = 200;
    throwsProtocol(() => parseRelay(outside), 'BAD_VALUE');
    const noNul = fixture('relay.hex');
    noNul[noNul.length - 1] = 0x41;
    throwsProtocol(() => parseRelay(noNul), 'BAD_VALUE');
    throwsProtocol(() => encodeRelay({ origin: 'a', hops: ['no-port'] }), 'BAD_VALUE');
    throwsProtocol(() => encodeRelay({ origin: 'has space', hops: ['r:1'] }), 'BAD_VALUE');
  });
  it('splits host:port including IPv6 literals', () => {
    assert.deepEqual(splitHostPort('vpn.example:7000'), { host: 'vpn.example', port: 7000 });
    assert.deepEqual(splitHostPort('[::1]:443'), { host: '::1', port: 443 });
    assert.deepEqual(splitHostPort('[fd74:7670:6e00::1]:5555'), { host: 'fd74:7670:6e00::1', port: 5555 });
    assert.deepEqual(splitHostPort('[::ffff:192.0.2.1]:5555'), { host: '::ffff:192.0.2.1', port: 5555 });
    throwsProtocol(() => splitHostPort('[fd74:::1]:5555'), 'BAD_VALUE');
    throwsProtocol(() => splitHostPort('[1.2.3.4]:5555'), 'BAD_VALUE');
    throwsProtocol(() => splitHostPort('fd74::1:5555'), 'BAD_VALUE');
    throwsProtocol(() => splitHostPort('x:0'), 'BAD_VALUE');
    throwsProtocol(() => splitHostPort('x:65536'), 'BAD_VALUE');
  });
  it('rejects DATA with unknown flags or padding longer than the payload', () => {
    const flagged = fixture('data.hex');
    flagged[9] = 2;
    throwsProtocol(() => parseData(flagged), 'BAD_VALUE');
    const padded = fixture('data.hex');
    padded[10] = 30;
    throwsProtocol(() => parseData(padded), 'TRUNCATED');
  });
  it('rejects request bodies with unknown flags or trailing bytes', () => {
    const body = fixture('request-body.hex');
    body[1] = 0x80;
    throwsProtocol(() => parseRequestBody(body), 'BAD_VALUE');
    const longer = new Uint8Array([...fixture('request-body.hex'), 0]);
    throwsProtocol(() => parseRequestBody(longer), 'BAD_LENGTH');
  });
});

const name = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
const hop = fc.tuple(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

describe('frame round-trips (fast-check)', () => {
  it('RELAY', () => {
    fc.assert(fc.property(name, fc.uniqueArray(hop, { minLength: 1, maxLength: 16 }), (origin, hops) => {
      assert.deepEqual(parseRelay(encodeRelay({ origin, hops })), { origin, hops });
    }));
  });
  it('REQUEST and body', () => {
    fc.assert(fc.property(name, fc.uint8Array({ minLength: 108, maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }), bytes(4096), fc.boolean(),
      (dest, handshake, suites, clientData, rekey) => {
        const frame = encodeRequest({ destination: dest, handshake });
        frame.set(range(0x80, 32), frame.length - 32); // stamped MACs
        const r = parseRequest(frame);
        assert.equal(r.destination, dest);
        assert.equal(hex(r.handshake), hex(handshake));
        assert.deepEqual([hex(r.mac1), hex(r.mac2)], [hex(range(0x80, 16)), hex(range(0x90, 16))]);
        const body = { flags: rekey ? 1 : 0, initiatorName: dest, suites, clientData };
        const b = parseRequestBody(encodeRequestBody(body));
        assert.deepEqual([b.flags, b.initiatorName, b.suites, hex(b.clientData)], [body.flags, dest, suites, hex(clientData)]);
      }));
  });
  it('COOKIE', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 44, maxLength: 44 }), (sealed) => {
      assert.equal(hex(parseCookie(encodeCookie({ sealed })).sealed), hex(sealed));
    }));
  });
  it('RESPONSE body, DATA, CLOSE, KEEPALIVE, REKEY', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), bytes(4096), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }), bytes(64), bytes(2000), fc.string({ maxLength: 300 }),
      (suite, clientData, etherType, keyId, pad, digest, payload, reason) => {
        const rb = parseResponseBody(encodeResponseBody({ flags: 0, suite, clientData }));
        assert.deepEqual([rb.suite, hex(rb.clientData)], [suite, hex(clientData)]);
        const ciphertext = new Uint8Array([...payload, ...new Uint8Array(pad)]);
        const d = parseData(encodeData({ etherType, keyId, paddingLength: pad, digest, ciphertext }));
        assert.deepEqual([d.etherType, d.keyId, d.paddingLength, hex(d.digest), hex(d.ciphertext)], [etherType, keyId, pad, hex(digest), hex(ciphertext)]);
        const c = parseClose(encodeClose({ status: etherType, reason }));
        assert.equal(c.status, etherType);
        assert.equal(c.reason, reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 255));
        assert.equal(hex(parseKeepalive(encodeKeepalive(keyId, digest)).digest), hex(digest));
        assert.equal(parseRekey(encodeRekey(keyId, digest)).keyId, keyId);
      }));
  });
});

describe('random input never throws anything but ProtocolError', () => {
  const parsers: [string, (b: Uint8Array) => unknown][] = [
    ['relay', parseRelay], ['request', parseRequest], ['requestBody', parseRequestBody], ['response', parseResponse],
    ['responseBody', parseResponseBody], ['data', parseData], ['close', parseClose], ['keepalive', parseKeepalive],
    ['rekey', parseRekey], ['cookie', parseCookie], ['frameType', frameType],
  ];
  // A valid header for a random type and length makes the fuzz reach the bodies.
  const framed = fc.tuple(fc.integer({ min: 1, max: 9 }), bytes(600)).map(([type, body]) => {
    const f = new Uint8Array(6 + body.length);
    f.set(body, 6);
    new DataView(f.buffer).setUint32(0, f.length);
    f[4] = type;
    f[5] = PROTOCOL_VERSION;
    return f;
  });
  for (const [label, parse] of parsers) {
    it(label, () => {
      fc.assert(fc.property(fc.oneof(bytes(600), framed), (b) => {
        try {
          parse(b);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }), { numRuns: 2000 });
    });
  }
  it('MAX_FRAME_LENGTH holds the largest DATA frame', () => {
    assert.ok(dataFrameLength(65535, 64, 255) <= MAX_FRAME_LENGTH);
  });
});

describe('refusal bodies (REFUSED RESPONSE)', () => {
  const reason = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
  it('round-trip, with and without the STALE_TIMESTAMP refusal\'s last accepted timestamp', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), reason, fc.option(fc.uint8Array({ minLength: 12, maxLength: 12 }), { nil: undefined }), (status, text, lastTimestamp) => {
      const body = parseResponseBody(encodeRefusalBody({ status, reason: text, ...(lastTimestamp ? { lastTimestamp } : {}) }));
      const refusal = parseRefusal(body)!;
      assert.equal(refusal.status, status);
      assert.equal(refusal.reason, text);
      assert.deepEqual(refusal.lastTimestamp && [...refusal.lastTimestamp], lastTimestamp && [...lastTimestamp]);
    }));
  });
  it('a trailer that is not exactly one timestamp is refused with BAD_LENGTH, and so is a wrong-sized timestamp to encode', () => {
    const close = encodeRefusalBody({ status: CloseCode.STALE_TIMESTAMP, reason: 'stale timestamp', lastTimestamp: new Uint8Array(12) });
    for (const cut of [1, 11]) {
      const body = parseResponseBody(close);
      throwsProtocol(() => parseRefusal({ ...body, clientData: body.clientData.subarray(0, body.clientData.length - cut) }), 'BAD_LENGTH');
    }
    throwsProtocol(() => encodeRefusalBody({ status: 14, reason: '', lastTimestamp: new Uint8Array(11) }), 'BAD_VALUE');
  });
});
