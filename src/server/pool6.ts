/**
 * The server's IPv6 pool (`[tunnel] network6`): every client's /64 is
 * numbered by the host part of its IPv4 lease — client 10.77.0.7 in
 * 10.77.0.0/24 gets subnet 7 of the network, fd74:7670:6e00:7::/64 in
 * fd74:7670:6e00::/48. So the IPv6 prefix is exactly as stable as the IPv4
 * lease, which the lease store already persists and never gives to two
 * clients; nothing more needs storing, and the two can never disagree. The
 * server's own subnet is the gateway's (its address `::1` in it). Pure.
 */
import type { Ipv6Lease, Ipv6Prefix } from '../lease.js';
import { inSubnet, ipv4ToNumber, prefixToMask } from '../wire/addr.js';
import { bytesToIpv6, ipv6ToBytes } from '../wire/addr6.js';

/** SLAAC on Ethernet needs a /64 (RFC 4862 §5.5.3, RFC 2464 §4). */
export const CLIENT_PREFIX_LENGTH = 64;

export interface Ipv6PoolConfig {
  network6: Ipv6Prefix;
  /** The IPv4 tunnel network whose host parts number the subnets. */
  network4: { address: string; prefixLength: number };
  /** The IPv4 gateway: its subnet is the server's own. */
  gateway4: string;
  routes6: readonly Ipv6Prefix[];
  dns6: readonly string[];
}

/** Why `network6` cannot number every IPv4 host, or undefined when it can. */
export function ipv6PoolProblem(network6PrefixLength: number, network4PrefixLength: number): string | undefined {
  if (network6PrefixLength > CLIENT_PREFIX_LENGTH) return `expected a prefix of /${CLIENT_PREFIX_LENGTH} or shorter (each client gets a /64), got /${network6PrefixLength}`;
  const subnetBits = CLIENT_PREFIX_LENGTH - network6PrefixLength;
  const hostBits = 32 - network4PrefixLength;
  if (subnetBits < hostBits) {
    return `expected room for a /64 per address of the /${network4PrefixLength} tunnel network (a /${CLIENT_PREFIX_LENGTH - hostBits} or shorter), got /${network6PrefixLength}`;
  }
  return undefined;
}

/** The /64 numbered by `address4`'s host part. */
export function subnetFor(config: Ipv6PoolConfig, address4: string): Ipv6Prefix {
  const network4 = ipv4ToNumber(config.network4.address);
  const address = ipv4ToNumber(address4);
  if (!inSubnet(address, network4, config.network4.prefixLength)) throw new RangeError(`${address4} is outside ${config.network4.address}/${config.network4.prefixLength}`);
  const problem = ipv6PoolProblem(config.network6.prefixLength, config.network4.prefixLength);
  if (problem) throw new RangeError(`network6: ${problem}`);
  const host = (address & ~prefixToMask(config.network4.prefixLength)) >>> 0;
  const bytes = ipv6ToBytes(config.network6.prefix);
  // The host number goes into the low bits of the first 64 (bytes 4..7 hold at most 32 of them).
  for (let i = 0; i < 4; i++) bytes[7 - i]! |= (host >>> (8 * i)) & 0xff;
  return { prefix: bytesToIpv6(bytes), prefixLength: CLIENT_PREFIX_LENGTH };
}

/** The server's tunnel IPv6 address: `::1` in the gateway's subnet. */
export function gateway6Of(config: Ipv6PoolConfig): string {
  const bytes = ipv6ToBytes(subnetFor(config, config.gateway4).prefix);
  bytes[15] = 1;
  return bytesToIpv6(bytes);
}

/** The IPv6 part of the lease for the client (or, with the gateway's address, the server's adapter) at `address4`. */
export function ipv6LeaseFor(config: Ipv6PoolConfig, address4: string): Ipv6Lease {
  return {
    clientPrefix: subnetFor(config, address4),
    network: { ...config.network6 },
    gateway: gateway6Of(config),
    routes: config.routes6.map((r) => ({ ...r })),
    dnsServers: [...config.dns6],
  };
}
