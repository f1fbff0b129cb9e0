/**
 * The DHCP server emulator (RFC 2131/2132): serves the one lease the tunnel
 * granted to the host behind the pseudo adapter, so an unmodified DHCP client
 * configures the TAP. It is the only server on the link and authoritative for
 * it, so a request for any other address is NAKed rather than ignored.
 *
 * - DISCOVER → OFFER of the lease address.
 * - REQUEST, by client state (RFC 2131 §4.3.2): SELECTING (option 54 present:
 *   ours → ACK if option 50 is the lease, else NAK; another server's → ignored),
 *   INIT-REBOOT (no 54, option 50 present: ACK if it is the lease, else NAK),
 *   RENEWING/REBINDING (no 50, ciaddr set: ACK if it is the lease, else NAK).
 * - RELEASE, DECLINE → no reply (the reason is the counter key). The lease is
 *   fixed by the tunnel, so there is nothing to free or mark bad; a DECLINE
 *   means the host found the address in use on its side (ARP conflict), so its
 *   reason says so ('decline-address-conflict') for the adapter's log.
 * - INFORM → ACK with configuration but no lease times and yiaddr 0.
 * Replies follow RFC 2131 table 3 (xid echoed, flags and giaddr copied, hops
 * 0, sname/file zero) and are addressed per §4.1 (`replyDestination`).
 * Options: 53, 54 (= the gateway) and 51 always; 1, 3, 6, 15, 26, 28, 58, 59,
 * 121 and 249 (when there are routes) as the client's parameter request list
 * (55) asks, in its order, or all of them without one; 58 and 59 also unasked
 * after those (with 51, as ISC dhcpd does); optional options that would
 * overflow the client's maximum message size (57) are dropped.
 *
 * Routes, a documented choice: option 3 is always the gateway and options
 * 121/249 carry exactly `lease.routes`, nothing added. RFC 3442 §2 says a
 * client that receives 121 ignores option 3, so a lease whose routes hold no
 * 0.0.0.0/0 is a split tunnel for RFC 3442 clients (only the pushed networks
 * via the tunnel); a full tunnel is a lease with a 0.0.0.0/0 route via the
 * gateway, which then reaches such clients through 121. Clients without 121
 * support (none of the current ones) would take option 3 as their default.
 *
 * `handle` never throws: a malformed message is ignored with reason
 * `malformed:<WireError code>`. The only state is the host's MAC, learned from
 * chaddr; time is not needed because the lease does not change under a host.
 */
import { bytesToMac, ipv4ToNumber, numberToIpv4, prefixToMask, type Ipv4Address, type MacAddress } from '../src/wire/addr.js';
import { WireError } from '../src/wire/errors.js';
import type { Lease } from '../src/lease.js';
import {
  BOOTP_BROADCAST_FLAG,
  BootpOp,
  DhcpMessageType,
  DhcpOption,
  dhcpLength,
  emitDhcp,
  encodeClasslessRoutes,
  encodeIpv4List,
  encodeText,
  encodeUint16,
  encodeUint32,
  HLEN_ETHERNET,
  HTYPE_ETHERNET,
  maximumMessageSize,
  messageType,
  optionLength,
  parameterRequestList,
  parseDhcp,
  requestedIpAddress,
  serverIdentifier,
  DHCP_FIXED_LENGTH,
  DHCP_MIN_MAXIMUM_MESSAGE_SIZE,
  type DhcpMessage,
} from '../src/wire/dhcp.js';

/**
 * What a DHCP responder decides for one message from the host: a reply and
 * where to send it (RFC 2131 §4.1), or nothing and the reason (a counter key).
 * The one definition: the pseudo adapter consumes it through DhcpResponder.
 */
export type DhcpVerdict =
  | { kind: 'reply'; payload: Uint8Array; to: { ip: Ipv4Address; mac: MacAddress } }
  | { kind: 'ignored'; reason: string };

/** A DHCP server on the adapter's link as the pseudo adapter drives it; DhcpServerEmulator is the real one. */
export interface DhcpResponder {
  setLease(lease: Lease): void;
  /** The host's MAC once learned (from chaddr). */
  readonly hostMac: MacAddress | undefined;
  /** Never throws. */
  handle(payload: Uint8Array, nowMs: number): DhcpVerdict;
}

/** IPv4 (20, no options) + UDP (8) headers around a DHCP message: option 57 counts them (as dnsmasq and ISC dhcpd read it). */
const IP_UDP_HEADERS_LENGTH = 28;
/** Replies go out on an Ethernet TAP: never build one bigger than its MTU allows. */
const ETHERNET_MTU_BYTES = 1500;
const BROADCAST: { ip: Ipv4Address; mac: MacAddress } = { ip: '255.255.255.255', mac: 'ff:ff:ff:ff:ff:ff' };
const NO_ADDRESS = 0;
const NAK_MESSAGE = encodeText('requested address is not leased to this client');
/** The optional options we can send, in the order sent when the client gives no parameter request list. */
const DEFAULT_ORDER = [1, 3, 6, 15, 26, 28, 58, 59, 121, 249] as const;
/** Options an INFORM's ACK must not carry (RFC 2131 §4.3.5: no lease time parameters). */
const LEASE_TIME_OPTIONS: ReadonlySet<number> = new Set([DhcpOption.IP_ADDRESS_LEASE_TIME, DhcpOption.RENEWAL_TIME, DhcpOption.REBINDING_TIME]);

/** The lease as numbers and encoded option values, computed once per lease. */
interface CompiledLease {
  address: number;
  gateway: number;
  serverIdentifier: Uint8Array;
  leaseTime: Uint8Array;
  optional: ReadonlyMap<number, Uint8Array>;
}

export function compileLease(lease: Lease): CompiledLease {
  const address = ipv4ToNumber(lease.address);
  const gateway = ipv4ToNumber(lease.gateway);
  const mask = prefixToMask(lease.prefixLength);
  const renewal = lease.renewalTimeSec ?? Math.floor(lease.leaseTimeSec * 0.5); // RFC 2131 §4.4.5 defaults
  const rebinding = lease.rebindingTimeSec ?? Math.floor(lease.leaseTimeSec * 0.875);
  const optional = new Map<number, Uint8Array>();
  optional.set(DhcpOption.SUBNET_MASK, encodeUint32(mask));
  optional.set(DhcpOption.ROUTER, encodeIpv4List([gateway]));
  if (lease.dnsServers.length > 0) optional.set(DhcpOption.DOMAIN_NAME_SERVER, encodeIpv4List(lease.dnsServers.map(ipv4ToNumber)));
  if (lease.searchDomain) optional.set(DhcpOption.DOMAIN_NAME, encodeText(lease.searchDomain));
  optional.set(DhcpOption.INTERFACE_MTU, encodeUint16(lease.mtu));
  optional.set(DhcpOption.BROADCAST_ADDRESS, encodeUint32((address | ~mask) >>> 0));
  optional.set(DhcpOption.RENEWAL_TIME, encodeUint32(renewal));
  optional.set(DhcpOption.REBINDING_TIME, encodeUint32(rebinding));
  if (lease.routes.length > 0) {
    const routes = encodeClasslessRoutes(
      lease.routes.map((r) => ({ destination: ipv4ToNumber(r.destination), prefixLength: r.prefixLength, router: ipv4ToNumber(r.gateway) })),
    );
    optional.set(DhcpOption.CLASSLESS_STATIC_ROUTE, routes);
    optional.set(DhcpOption.MS_CLASSLESS_STATIC_ROUTE, routes);
  }
  return { address, gateway, serverIdentifier: encodeIpv4List([gateway]), leaseTime: encodeUint32(lease.leaseTimeSec), optional };
}

export class DhcpServerEmulator implements DhcpResponder {
  #lease: CompiledLease;
  #hostMac: MacAddress | undefined;

  /** Throws WireError if the lease holds an invalid address, prefix or route (control path). */
  constructor(lease: Lease) {
    this.#lease = compileLease(lease);
  }

  setLease(lease: Lease): void {
    this.#lease = compileLease(lease);
  }

  /** The host's MAC learned from chaddr, once it has talked to us. */
  get hostMac(): MacAddress | undefined {
    return this.#hostMac;
  }

  /** One DHCP message from the host (UDP payload sent to port 67). Never throws. */
  handle(payload: Uint8Array, _nowMs: number): DhcpVerdict {
    let request: DhcpMessage;
    try {
      request = parseDhcp(payload);
    } catch (error) {
      return ignored(error instanceof WireError ? `malformed:${error.code}` : 'internal-error');
    }
    try {
      return this.#answer(request);
    } catch {
      return ignored('internal-error');
    }
  }

  #answer(request: DhcpMessage): DhcpVerdict {
    if (request.op !== BootpOp.BOOTREQUEST) return ignored('not-request');
    if (request.htype !== HTYPE_ETHERNET || request.hlen !== HLEN_ETHERNET) return ignored('not-ethernet');
    const type = messageType(request.options);
    if (type === undefined) return ignored('no-message-type'); // plain BOOTP: not served
    if ((request.chaddr[0]! & 0x01) === 0) this.#hostMac = bytesToMac(request.chaddr); // never learn a group address
    switch (type) {
      case DhcpMessageType.DISCOVER:
        return this.#reply(request, DhcpMessageType.OFFER);
      case DhcpMessageType.REQUEST:
        return this.#answerRequest(request);
      case DhcpMessageType.INFORM:
        return this.#reply(request, DhcpMessageType.ACK);
      case DhcpMessageType.RELEASE:
        return ignored('release');
      case DhcpMessageType.DECLINE:
        return ignored('decline-address-conflict');
      default:
        return ignored('unexpected-message-type');
    }
  }

  /** RFC 2131 §4.3.2: the client's state is told apart by which of option 54, option 50 and ciaddr it sent. */
  #answerRequest(request: DhcpMessage): DhcpVerdict {
    const lease = this.#lease;
    const server = serverIdentifier(request.options);
    const requested = requestedIpAddress(request.options);
    let granted: boolean;
    if (server !== undefined) {
      if (server !== lease.gateway) return ignored('other-server'); // SELECTING another server's offer
      granted = requested === lease.address;
    } else if (requested !== undefined) {
      granted = requested === lease.address; // INIT-REBOOT
    } else if (request.ciaddr !== NO_ADDRESS) {
      granted = request.ciaddr === lease.address; // RENEWING or REBINDING
    } else {
      return ignored('request-without-address');
    }
    return this.#reply(request, granted ? DhcpMessageType.ACK : DhcpMessageType.NAK);
  }

  #reply(request: DhcpMessage, type: number): DhcpVerdict {
    const inform = messageType(request.options) === DhcpMessageType.INFORM;
    const reply: DhcpMessage = {
      op: BootpOp.BOOTREPLY,
      htype: request.htype,
      hlen: request.hlen,
      hops: 0,
      xid: request.xid,
      secs: 0,
      flags: request.flags,
      ciaddr: type === DhcpMessageType.ACK ? request.ciaddr : NO_ADDRESS,
      yiaddr: type === DhcpMessageType.NAK || inform ? NO_ADDRESS : this.#lease.address,
      siaddr: NO_ADDRESS,
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      sname: new Uint8Array(0),
      file: new Uint8Array(0),
      options: this.#replyOptions(request, type, inform),
    };
    const payload = new Uint8Array(dhcpLength(reply));
    emitDhcp(reply, payload);
    return { kind: 'reply', payload, to: replyDestination(request, reply, type) };
  }

  /** Mandatory options first, then the optional ones the client asked for (or all), each only if it still fits. */
  #replyOptions(request: DhcpMessage, type: number, inform: boolean): Map<number, Uint8Array> {
    const options = new Map<number, Uint8Array>([
      [DhcpOption.MESSAGE_TYPE, Uint8Array.of(type)],
      [DhcpOption.SERVER_IDENTIFIER, this.#lease.serverIdentifier],
    ]);
    const END_LENGTH = 1;
    let room = maxReplyLength(request) - DHCP_FIXED_LENGTH - END_LENGTH - optionLength(1) - optionLength(4); // 53 and 54
    const offer = (code: number, value: Uint8Array): void => {
      if (options.has(code) || optionLength(value.length) > room) return;
      options.set(code, value);
      room -= optionLength(value.length);
    };
    if (type === DhcpMessageType.NAK) {
      offer(DhcpOption.MESSAGE, NAK_MESSAGE);
      return options;
    }
    if (!inform) {
      options.set(DhcpOption.IP_ADDRESS_LEASE_TIME, this.#lease.leaseTime); // mandatory in OFFER and ACK to REQUEST
      room -= optionLength(this.#lease.leaseTime.length);
    }
    const asked = parameterRequestList(request.options) ?? DEFAULT_ORDER;
    for (const code of asked) {
      const value = this.#lease.optional.get(code);
      if (value && !(inform && LEASE_TIME_OPTIONS.has(code))) offer(code, value);
    }
    if (!inform) {
      // T1/T2 go with the lease time even unasked (dhclient does not ask), as ISC dhcpd does, so a lease's overrides reach the client.
      offer(DhcpOption.RENEWAL_TIME, this.#lease.optional.get(DhcpOption.RENEWAL_TIME)!);
      offer(DhcpOption.REBINDING_TIME, this.#lease.optional.get(DhcpOption.REBINDING_TIME)!);
    }
    return options;
  }
}

/** RFC 2131 §4.1 for a reply on the client's own link (giaddr is copied but there is no relay behind a TAP). */
export function replyDestination(request: DhcpMessage, reply: DhcpMessage, type: number): { ip: Ipv4Address; mac: MacAddress } {
  if (type === DhcpMessageType.NAK) return BROADCAST;
  const mac = bytesToMac(request.chaddr);
  if (request.ciaddr !== NO_ADDRESS) return { ip: numberToIpv4(request.ciaddr), mac };
  if ((request.flags & BOOTP_BROADCAST_FLAG) !== 0) return BROADCAST;
  if (reply.yiaddr !== NO_ADDRESS) return { ip: numberToIpv4(reply.yiaddr), mac };
  return BROADCAST;
}

/** The DHCP payload size the client accepts: option 57 (at least 576, RFC 2132 §9.10) less IP/UDP headers, at most an Ethernet MTU's worth. */
function maxReplyLength(request: DhcpMessage): number {
  const announced = Math.max(DHCP_MIN_MAXIMUM_MESSAGE_SIZE, maximumMessageSize(request.options) ?? DHCP_MIN_MAXIMUM_MESSAGE_SIZE);
  return Math.min(announced, ETHERNET_MTU_BYTES) - IP_UDP_HEADERS_LENGTH;
}

function ignored(reason: string): DhcpVerdict {
  return { kind: 'ignored', reason };
}
