/**
 * Real IPv6 frames captured on Linux 6.18 (the project's test VM) for the
 * IPv6, ICMPv6 and NDP codec tests. Set-up: two namespaces joined by a veth,
 * A = 02:00:5e:10:00:01 (2001:db8:1::1/64), B = 02:00:5e:10:00:02
 * (2001:db8:1::2/64); frames read with a Python AF_PACKET socket (ETH_P_ALL,
 * incoming only) on the receiving end of the veth. Every checksum here was
 * computed by the sending kernel and accepted by the receiving one.
 */
import { hex } from './fixtures.js';

/** Router solicitation from A's link-local fe80::5eff:fe10:1 to ff02::2 with a source link-layer address option: A's link coming up. */
export const RS_FRAME = hex(`
  3333 0000 0002 0200 5e10 0001 86dd 6000
  0000 0010 3aff fe80 0000 0000 0000 0000
  5eff fe10 0001 ff02 0000 0000 0000 0000
  0000 0000 0002 8500 bf0b 0000 0000 0101
  0200 5e10 0001`);

/**
 * Duplicate address detection probe: `ip addr add 2001:db8:1::1/64` on A.
 * Source ::, destination the solicited-node group ff02::1:ff00:1, target
 * 2001:db8:1::1, and a nonce option (type 14, RFC 7527) — an option our
 * codec does not decode, kept as unknown.
 */
export const DAD_NS_FRAME = hex(`
  3333 ff00 0001 0200 5e10 0001 86dd 6000
  0000 0020 3aff 0000 0000 0000 0000 0000
  0000 0000 0000 ff02 0000 0000 0000 0000
  0001 ff00 0001 8700 9259 0000 0000 2001
  0db8 0001 0000 0000 0000 0000 0001 0e01
  c2ea a664 433a`);

/** Address resolution: B (2001:db8:1::2) asks for 2001:db8:1::1 after `ip neigh flush` and `ping -6 2001:db8:1::1`. */
export const NS_FRAME = hex(`
  3333 ff00 0001 0200 5e10 0002 86dd 6000
  0000 0020 3aff 2001 0db8 0001 0000 0000
  0000 0000 0002 ff02 0000 0000 0000 0000
  0001 ff00 0001 8700 be14 0000 0000 2001
  0db8 0001 0000 0000 0000 0000 0001 0101
  0200 5e10 0002`);

/** A's answer to that solicitation: solicited + override, target link-layer address 02:00:5e:10:00:01. */
export const NA_FRAME = hex(`
  0200 5e10 0002 0200 5e10 0001 86dd 6000
  0000 0020 3aff 2001 0db8 0001 0000 0000
  0000 0000 0001 2001 0db8 0001 0000 0000
  0000 0000 0002 8800 2c60 6000 0000 2001
  0db8 0001 0000 0000 0000 0000 0001 0201
  0200 5e10 0001`);

/** ICMPv6 echo request B → A, `ping -6 -c1 -s 16`: flow label 0x50475, hop limit 64, id 0x2780, seq 1. */
export const ECHO6_FRAME = hex(`
  0200 5e10 0001 0200 5e10 0002 86dd 6005
  0475 0018 3a40 2001 0db8 0001 0000 0000
  0000 0000 0002 2001 0db8 0001 0000 0000
  0000 0000 0001 8000 cf49 2780 0001 4436
  0f6b 0000 0000 d1c9 0800 0000 0000`);

/**
 * Router advertisement from radvd 2.19 on B (Debian package) to ff02::1, with
 * `AdvLinkMTU 1400; AdvDefaultLifetime 0;` a prefix 2001:db8:1::/64 (L and A,
 * valid 3600 s, preferred 1800 s), a route 2001:db8:99::/48 (medium, 1800 s;
 * radvd sends route information with length 3 even where 2 would do), RDNSS
 * 2001:db8:1::53 and DNSSL tvpn.example (1200 s each), an MTU option and a
 * source link-layer address option.
 */
export const RA_FRAME = hex(`
  3333 0000 0001 0200 5e10 0002 86dd 6003
  35ce 0088 3aff fe80 0000 0000 0000 0000
  5eff fe10 0002 ff02 0000 0000 0000 0000
  0000 0000 0001 8600 7a73 4000 0000 0000
  0000 0000 0000 0304 40c0 0000 0e10 0000
  0708 0000 0000 2001 0db8 0001 0000 0000
  0000 0000 0000 1803 3000 0000 0708 2001
  0db8 0099 0000 0000 0000 0000 0000 1903
  0000 0000 04b0 2001 0db8 0001 0000 0000
  0000 0000 0053 1f03 0000 0000 04b0 0474
  7670 6e07 6578 616d 706c 6500 0000 0501
  0000 0000 0578 0101 0200 5e10 0002`);
