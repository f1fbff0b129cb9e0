/**
 * mac1, mac2 and the cookie (src/crypto/cookie.ts): the labels and key
 * derivation pinned against a hand computation, mac1 binds every byte of a
 * REQUEST and the server key (property), a cookie is bound to its source and
 * its REQUEST's mac1, lives through one secret rotation and not two, and a
 * forged or altered COOKIE does not open.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COOKIE_REPLY_LENGTH, COOKIE_SECRET_LIFETIME_MS, CookieChecker, CookieGenerator, MAC_LENGTH } from '../../../src/crypto/cookie.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { COOKIE_BODY_LENGTH, REQUEST_MAC_LENGTH } from '../../../src/protocol/frames/limits.js';

const server = generateKeyPair();
const request = (length = 200): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7) & 255);

describe('mac1', () => {
  it('is HMAC-BLAKE2s(BLAKE2s("mac1----" ‖ S_pub), REQUEST before the MACs), cut to 16 bytes', () => {
    const frame = request();
    new CookieGenerator(server.publicKey).stamp(frame);
    const key = createHash('blake2s256').update('mac1----').update(server.publicKey).digest();
    const expected = createHmac('blake2s256', key).update(frame.subarray(0, frame.length - 32)).digest().subarray(0, 16);
    assert.deepEqual(Buffer.from(frame.subarray(-32, -16)), expected);
    assert.ok(frame.subarray(-16).every((b) => b === 0), 'no cookie: mac2 zeros');
  });

  it('the frame layer and the crypto layer agree on the sizes', () => {
    assert.equal(MAC_LENGTH, REQUEST_MAC_LENGTH);
    assert.equal(COOKIE_REPLY_LENGTH, COOKIE_BODY_LENGTH);
  });

  it('any flipped bit of the REQUEST, or another server key, fails the check (property)', () => {
    const checker = new CookieChecker(server);
    const other = new CookieChecker(generateKeyPair());
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 400 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (bytes, at, bit) => {
        const frame = new Uint8Array([...bytes, ...new Uint8Array(32)]);
        new CookieGenerator(server.publicKey).stamp(frame);
        assert.ok(checker.checkMac1(frame));
        assert.ok(!other.checkMac1(frame), 'made for another server');
        const i = at % (frame.length - 16); // every byte mac1 covers, and mac1 itself
        frame[i]! ^= 1 << bit;
        assert.ok(!checker.checkMac1(frame), `byte ${i} bit ${bit}`);
      }),
      { numRuns: 300 },
    );
  });

  it('random junk does not pass', () => {
    const checker = new CookieChecker(server);
    for (let i = 0; i < 1000; i++) assert.ok(!checker.checkMac1(globalThis.crypto.getRandomValues(new Uint8Array(150))));
  });
});

describe('the cookie and mac2', () => {
  /** A client at `source` that got a COOKIE for its REQUEST, stamped mac2 and sent it again. */
  function withCookie(checker: CookieChecker, source: string, nowMs: number): Uint8Array {
    const client = new CookieGenerator(server.publicKey);
    const frame = request();
    const mac1 = client.stamp(frame);
    const cookie = client.openReply(checker.reply(frame, source, nowMs), mac1);
    assert.ok(cookie, 'the COOKIE opens');
    client.stamp(frame, cookie);
    return frame;
  }

  it('a mac2 checks out for the source the cookie was given to, and only that source', () => {
    const checker = new CookieChecker(server);
    const frame = withCookie(checker, '192.0.2.7', 0);
    assert.ok(checker.checkMac2(frame, '192.0.2.7', 1000));
    assert.ok(!checker.checkMac2(frame, '192.0.2.8', 1000));
    assert.ok(!checker.checkMac2(request(), '192.0.2.7', 1000), 'zeros are no mac2');
  });

  it('mac2 covers the REQUEST and mac1: a flipped byte fails it', () => {
    const checker = new CookieChecker(server);
    const frame = withCookie(checker, '192.0.2.7', 0);
    for (const at of [0, 100, frame.length - 17, frame.length - 1]) {
      const bad = frame.slice();
      bad[at]! ^= 1;
      assert.ok(!checker.checkMac2(bad, '192.0.2.7', 1000), `byte ${at}`);
    }
  });

  it('lives through one secret rotation (2 min) and is refused after two: an expired cookie', () => {
    const checker = new CookieChecker(server);
    const frame = withCookie(checker, '192.0.2.7', 0);
    assert.ok(checker.checkMac2(frame, '192.0.2.7', COOKIE_SECRET_LIFETIME_MS + 1), 'after one rotation: the previous secret');
    assert.ok(!checker.checkMac2(frame, '192.0.2.7', 2 * COOKIE_SECRET_LIFETIME_MS + 2), 'after two: expired');
    const late = new CookieChecker(server);
    const old = withCookie(late, '192.0.2.7', 0);
    assert.ok(!late.checkMac2(old, '192.0.2.7', 10 * COOKIE_SECRET_LIFETIME_MS), 'a long gap forgets both secrets at once');
  });

  it('a COOKIE opens only for the REQUEST it answers and only unaltered (forged or altered: undefined)', () => {
    const checker = new CookieChecker(server);
    const client = new CookieGenerator(server.publicKey);
    const frame = request();
    const mac1 = client.stamp(frame);
    const sealed = checker.reply(frame, '192.0.2.7', 0);
    assert.ok(client.openReply(sealed, mac1));
    const otherMac1 = mac1.slice();
    otherMac1[0]! ^= 1;
    assert.equal(client.openReply(sealed, otherMac1), undefined, 'sealed to another mac1');
    for (let at = 0; at < sealed.length; at++) {
      const bad = sealed.slice();
      bad[at]! ^= 0x80;
      assert.equal(client.openReply(bad, mac1), undefined, `byte ${at}`);
    }
    assert.equal(new CookieGenerator(generateKeyPair().publicKey).openReply(sealed, mac1), undefined, 'a client of another server');
    assert.equal(client.openReply(sealed.subarray(1), mac1), undefined, 'short');
  });

  it('two replies for one source carry the same cookie under different nonces', () => {
    const checker = new CookieChecker(server);
    const frame = request();
    const client = new CookieGenerator(server.publicKey);
    const mac1 = client.stamp(frame);
    const a = checker.reply(frame, '192.0.2.7', 0);
    const b = checker.reply(frame, '192.0.2.7', 0);
    assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
    assert.deepEqual(client.openReply(a, mac1), client.openReply(b, mac1));
  });
});
