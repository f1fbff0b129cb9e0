/**
 * Protocol limits (docs/PROTOCOL.md "Limits"). Every codec and the stream
 * decoder check against these, so a peer can never make us buffer more than
 * one maximal frame or loop over an unbounded list.
 */

/**
 * The protocol version every frame carries; anything else is
 * UNSUPPORTED_VERSION. 2: REQUEST ends with mac1 ‖ mac2, and COOKIE (type 9)
 * exists (issue 10 item 8); a version-1 peer is refused at its first header.
 */
export const PROTOCOL_VERSION = 2;
/** Common header: length u32, type u8, version u8. */
export const HEADER_LENGTH = 6;
/** The largest datagram (Ethernet payload) a TAP adapter with MTU 65535 carries. */
export const MAX_DATAGRAM_LENGTH = 65535;
export const MAX_DIGEST_LENGTH = 64;
export const MAX_PADDING_LENGTH = 255;
/** DATA fixed header: common header + etherType, keyId, flags, paddingLength, digestLength. */
export const DATA_HEADER_LENGTH = 12;
/** 64 KiB + 1 KiB: at least DATA_HEADER_LENGTH + MAX_DIGEST_LENGTH + MAX_DATAGRAM_LENGTH + MAX_PADDING_LENGTH (65866). */
export const MAX_FRAME_LENGTH = 64 * 1024 + 1024;
export const MAX_NAME_LENGTH = 255;
export const MAX_PATH_HOPS = 16;
export const MAX_SUITES = 16;
export const MAX_CLIENT_DATA_LENGTH = 4096;
export const MAX_REASON_LENGTH = 255;
/** Noise IK message 1 without payload: e (32) + encrypted s (32 + 16) + timestamp (12) + tag (16). */
export const MIN_HANDSHAKE_REQUEST_LENGTH = 32 + 48 + 12 + 16;
/** mac1 and mac2 at a REQUEST's end, 16 bytes each (src/crypto/cookie.ts computes them). */
export const REQUEST_MAC_LENGTH = 16;
/** COOKIE body: nonce 12 ‖ encrypted cookie 16 ‖ tag 16. */
export const COOKIE_BODY_LENGTH = 12 + 16 + 16;
/** Noise IK message 2 without payload: e (32) + tag (16). */
export const MIN_HANDSHAKE_RESPONSE_LENGTH = 32 + 16;
/**
 * The largest frame a peer may send before it is authorized (or, at a
 * relay, before its RELAY frame was accepted): a maximal RELAY (16 hops of
 * 255-byte names, 4.4 KB) or REQUEST (4 KiB client data, 4.8 KB) fits, so no
 * anonymous peer can make us buffer 64 KiB per connection.
 */
export const MAX_PREAUTH_FRAME_LENGTH = 8 * 1024;
