/**
 * The ARP emulator (RFC 826 responder): answers the host's ARP requests for
 * on-link tunnel addresses with a reserved MAC, so the host sends those
 * datagrams to the pseudo adapter. On a client it answers for the whole tunnel
 * subnet (gateway included) except the client's own address; on the server
 * the same code answers for every client address with the client MAC, and
 * for every address of the clients' site networks (forwardingArpConfig).
 *
 * Never answered (each with a stable reason, used as a counter key):
 * - probes (sender IP 0.0.0.0, RFC 5227) and requests for an excluded
 *   address (the client's own): so the host's duplicate-address detection,
 *   e.g. dhclient's ARP check of a new lease, finds no conflict;
 * - gratuitous ARP (sender IP == target IP): announcements, absorbed;
 * - the subnet's network and broadcast addresses, which are not hosts;
 * - replies and anything outside the configured set.
 *
 * `answerArp` is pure; `ArpEmulator` adds the one piece of state: the host's
 * MAC, learned from the sender hardware address of every packet it sees.
 */
import type { ArpRepr } from '../src/wire/arp.js';
import { ArpOperation } from '../src/wire/arp.js';
import { bytesToMac, inSubnet, ipv4ToNumber, macToBytes, prefixToMask, type Ipv4Address, type MacAddress } from '../src/wire/addr.js';
import type { Lease } from '../src/lease.js';

export interface ArpNetwork {
  address: Ipv4Address; // any address in the network; host bits are ignored
  prefixLength: number;
}

export interface ArpEmulatorConfig {
  /** The MAC every answer carries (e.g. lease.gatewayMac). */
  replyMac: MacAddress;
  /** Networks answered for; use prefix 32 for single addresses. */
  answerFor: readonly ArpNetwork[];
  /** Addresses never answered for (the host's own). */
  except: readonly Ipv4Address[];
}

export type ArpIgnoreReason =
  | 'not-request'
  | 'probe'
  | 'gratuitous'
  | 'own-address'
  | 'not-host-address'
  | 'not-ours';

export type ArpVerdict = { kind: 'reply'; reply: ArpRepr } | { kind: 'ignored'; reason: ArpIgnoreReason };

/** The configuration in numbers and bytes, computed once. */
export interface CompiledArpConfig {
  replyMac: Uint8Array;
  networks: ReadonlyArray<{ network: number; prefixLength: number }>;
  except: ReadonlySet<number>;
}

/** A client's configuration: the whole tunnel subnet of the lease, except the lease's own address. */
export function clientArpConfig(lease: Lease): ArpEmulatorConfig {
  return {
    replyMac: lease.gatewayMac,
    answerFor: [{ address: lease.gateway, prefixLength: lease.prefixLength }],
    except: [lease.address],
  };
}

/**
 * A forwarding host's configuration (the server's adapter): the tunnel
 * subnet as for a client, and also every network the lease routes through
 * the adapter — the clients' site networks, which the server's kernel
 * reaches with a device route and so resolves address by address.
 */
export function forwardingArpConfig(lease: Lease): ArpEmulatorConfig {
  const client = clientArpConfig(lease);
  return { ...client, answerFor: [...client.answerFor, ...lease.routes.map((r) => ({ address: r.destination, prefixLength: r.prefixLength }))] };
}

export function compileArpConfig(config: ArpEmulatorConfig): CompiledArpConfig {
  return {
    replyMac: macToBytes(config.replyMac),
    networks: config.answerFor.map(({ address, prefixLength }) => ({
      network: (ipv4ToNumber(address) & prefixToMask(prefixLength)) >>> 0,
      prefixLength,
    })),
    except: new Set(config.except.map(ipv4ToNumber)),
  };
}

/** Decides one ARP packet from the host. Pure. */
export function answerArp(packet: ArpRepr, config: CompiledArpConfig): ArpVerdict {
  if (packet.operation !== ArpOperation.REQUEST) return ignored('not-request');
  const spa = packet.senderProtocolAddress;
  const tpa = packet.targetProtocolAddress;
  if (spa === 0) return ignored('probe');
  if (spa === tpa) return ignored('gratuitous');
  if (config.except.has(tpa)) return ignored('own-address');
  const network = config.networks.find((n) => inSubnet(tpa, n.network, n.prefixLength));
  if (!network) return ignored('not-ours');
  if (!isHostAddress(tpa, network.prefixLength)) return ignored('not-host-address');
  return {
    kind: 'reply',
    reply: {
      operation: ArpOperation.REPLY,
      senderHardwareAddress: config.replyMac,
      senderProtocolAddress: tpa,
      targetHardwareAddress: packet.senderHardwareAddress,
      targetProtocolAddress: spa,
    },
  };
}

/** In prefixes up to /30 the all-zeros and all-ones host parts name the network and its broadcast. */
function isHostAddress(address: number, prefixLength: number): boolean {
  if (prefixLength >= 31) return true; // RFC 3021 point-to-point links and single addresses
  const hostBits = ~prefixToMask(prefixLength) >>> 0;
  const host = (address & hostBits) >>> 0;
  return host !== 0 && host !== hostBits;
}

function ignored(reason: ArpIgnoreReason): ArpVerdict {
  return { kind: 'ignored', reason };
}

/** `answerArp` plus the host's MAC learned from what it sends. */
export class ArpEmulator {
  #config: CompiledArpConfig;
  #hostMac: MacAddress | undefined;

  constructor(config: ArpEmulatorConfig) {
    this.#config = compileArpConfig(config);
  }

  setConfig(config: ArpEmulatorConfig): void {
    this.#config = compileArpConfig(config);
  }

  /** The host's MAC, from the sender hardware address of the last ARP packet seen. */
  get hostMac(): MacAddress | undefined {
    return this.#hostMac;
  }

  /** The reply's target hardware address is a view into `packet`: use it before `packet`'s buffer is reused. */
  handle(packet: ArpRepr): ArpVerdict {
    // A group (multicast/broadcast) sender address is bogus; never learn it as the host's unicast MAC.
    if ((packet.senderHardwareAddress[0]! & 0x01) === 0) this.#hostMac = bytesToMac(packet.senderHardwareAddress);
    return answerArp(packet, this.#config);
  }
}
