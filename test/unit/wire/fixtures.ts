/**
 * Real frames captured on Linux 6.18 (the project's test VM), with the
 * commands that produced them, for the codec tests. Checksums in each were
 * verified independently with a Python RFC 1071 implementation before being
 * transcribed here (the tests verify them again with our code).
 */

/** Hex (whitespace ignored) → bytes. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex fixture: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/**
 * ARP request "who-has 192.0.2.3 tell 192.0.2.1" from 02:00:5e:10:00:01:
 * `ping 192.0.2.3` in a namespace with a veth (no neighbour for .3), captured
 * with `tcpdump -xx` on the peer veth. 42 bytes: veth frames are not padded.
 */
export const ARP_REQUEST_FRAME = hex(`
  ffff ffff ffff 0200 5e10 0001 0806 0001
  0800 0604 0001 0200 5e10 0001 c000 0201
  0000 0000 0000 c000 0203`);

/**
 * ICMP echo request 192.0.2.1 → 192.0.2.2, id 5112 (0x13f8), seq 1, 16 data
 * bytes: `ping -c1 -s 16 192.0.2.2` with a static neighbour for .2, captured
 * with `tcpdump -xx` on the peer veth. IP header checksum 0x317d, ICMP 0x3f55.
 */
export const ICMP_ECHO_FRAME = hex(`
  0200 5e10 0002 0200 5e10 0001 0800 4500
  002c 8550 4000 4001 317d c000 0201 c000
  0202 0800 3f55 13f8 0001 4cf6 036b 0000
  0000 4d50 0700 0000 0000`);

/**
 * UDP DNS query "A? example.com." id 0x1234 from 192.0.2.1:53000 to
 * 192.0.2.2:53, sent with a Python UDP socket and read from a TAP device
 * (TAP has no checksum offload, so the kernel filled in the UDP checksum
 * 0xcac0; on a veth it would have been left partial). IP checksum 0x4ab6.
 */
export const UDP_DNS_FRAME = hex(`
  0200 5e10 0002 0200 5e10 0001 0800 4500
  0039 6bfa 4000 4011 4ab6 c000 0201 c000
  0202 cf08 0035 0025 cac0 1234 0100 0001
  0000 0000 0000 0765 7861 6d70 6c65 0363
  6f6d 0000 0100 01`);

export const HOST_MAC_HEX = '02005e100001';

/**
 * ICMP "fragmentation needed" (type 3 code 4, next-hop MTU 1400) as the Linux
 * kernel routes it: a router namespace between a 1500-byte veth and a
 * 1400-byte one, a UDP socket with IP_PMTUDISC_DO sending a 1380-byte payload
 * from 192.0.2.2 to 198.51.100.2; received on a raw ICMP socket at 192.0.2.2.
 * 576 bytes (RFC 1812: as much of the datagram as fits), ICMP checksum 0x8503.
 */
export const ICMP_FRAG_NEEDED_DATAGRAM = hex(`
  45c00240d451000040011fa8c0000201c0000202030485030000057845000580
  0000400040114935c0000202c6336402db461388056cf1b50001020304050607
  08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627
  28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647
  48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364656667
  68696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687
  88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7
  a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7
  c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7
  e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607
  08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627
  28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647
  48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364656667
  68696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687
  88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7
  a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7
  c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7
  e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607`);
