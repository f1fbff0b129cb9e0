/**
 * The frame classifier: one verdict for each Ethernet frame the host writes
 * to the pseudo adapter.
 *
 * - `local-arp`: EtherType ARP, for the ARP emulator;
 * - `local-dhcp`: IPv4/UDP from port 68 to port 67, to the limited broadcast
 *   or the gateway, not a fragment, for the DHCP emulator;
 * - `tunnel`: a unicast IPv4 datagram from the host's lease address to the
 *   tunnel subnet or a routed network; the datagram's bounds (Ethernet header
 *   and any padding removed) are written into `result`;
 * - `local-ndp` and IPv6 `tunnel` datagrams when the lease has an IPv6
 *   part (classifier6.ts); without one every IPv6 frame is `drop:ipv6`;
 * - `drop` with a stable reason (also the counter key suffix).
 *
 * Allocation-free on the accepted paths: the verdict is a small integer and
 * the details go into one reusable `ClassifyResult`. Only malformed frames
 * allocate (the WireError that explains them). Pure: no I/O, no clock.
 */
import type { Lease } from '../lease.js';
import { inSubnet, ipv4ToNumber, macToBytes, prefixToMask } from '../wire/addr.js';
import { readU16 } from '../wire/bytes.js';
import { EtherType, ETHERNET_HEADER_LENGTH, ETHERTYPE_MIN, ethernetEtherType, isGroupDestination } from '../wire/ethernet.js';
import { WireError, type WireErrorCode } from '../wire/errors.js';
import {
  checkIpv4,
  IpProtocol,
  ipv4Destination,
  ipv4HeaderLength,
  ipv4IsFragmentBytes,
  ipv4Protocol,
  ipv4Source,
  ipv4TotalLength,
} from '../wire/ipv4.js';
import { UDP_HEADER_LENGTH, UdpField } from '../wire/udp.js';
import { ipv6TotalLength } from '../wire/ipv6.js';
import { classifier6ConfigFromLease, classifyIpv6, type Classifier6Config } from './classifier6.js';

export const Verdict = { DROP: 0, LOCAL_ARP: 1, LOCAL_DHCP: 2, TUNNEL: 3, LOCAL_NDP: 4 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];
export const VERDICT_NAMES = ['drop', 'local-arp', 'local-dhcp', 'tunnel', 'local-ndp'] as const;

export type DropReason =
  | 'ipv6'
  | 'not-ipv4'
  | 'vlan'
  | 'not-ethernet-ii'
  | 'multicast'
  | 'broadcast-not-dhcp'
  | 'not-for-us' // unicast to a MAC other than ours
  | 'source-not-lease'
  | 'no-route'
  | 'too-big'
  | `malformed:${WireErrorCode}`;

const BOOTP_SERVER_PORT = 67; // RFC 2131 §4.1
const BOOTP_CLIENT_PORT = 68;
const LIMITED_BROADCAST = 0xffffffff;
const MULTICAST_NETWORK = 0xe0000000; // 224.0.0.0/4
const MULTICAST_PREFIX_LENGTH = 4;
const MAC_LENGTH = 6;

/** What the classifier needs to know, in numbers. */
export interface ClassifierConfig {
  localMac: Uint8Array; // the reserved MAC the host sends to
  hostAddress: number; // the lease's address: the only tunnel source accepted
  gateway: number;
  networks: ReadonlyArray<{ network: number; prefixLength: number }>; // tunnel subnet + routes
  mtu: number; // largest datagram accepted for the tunnel
  /** The host routes for others (the server): any source is accepted, not only the lease's address. */
  forwarding?: boolean;
  /** The lease's IPv6 part; absent: IPv4 only. */
  ipv6?: Classifier6Config;
}

export function classifierConfigFromLease(lease: Lease, forwarding = false): ClassifierConfig {
  const network = (prefixLength: number, address: string) => ({
    network: (ipv4ToNumber(address) & prefixToMask(prefixLength)) >>> 0,
    prefixLength,
  });
  return {
    localMac: macToBytes(lease.gatewayMac),
    hostAddress: ipv4ToNumber(lease.address),
    gateway: ipv4ToNumber(lease.gateway),
    networks: [network(lease.prefixLength, lease.gateway), ...lease.routes.map((r) => network(r.prefixLength, r.destination))],
    mtu: lease.mtu,
    forwarding,
    ...(lease.ipv6 && { ipv6: classifier6ConfigFromLease(lease) }),
  };
}

/** Reused for every frame: valid until the next `classify` call. */
export class ClassifyResult {
  verdict: Verdict = Verdict.DROP;
  /** Set for DROP. */
  reason: DropReason | undefined = undefined;
  /** Set for malformed drops: the codec's explanation. */
  error: WireError | undefined = undefined;
  /** For LOCAL_DHCP, LOCAL_NDP, TUNNEL and a too-big drop: the datagram's bounds within the frame. */
  datagramStart = 0;
  datagramEnd = 0;
  /** True for a TUNNEL datagram that is a fragment (forwarded as is; the far end reassembles). */
  fragment = false;
  /** For TUNNEL and a too-big drop: EtherType.IPV4 or EtherType.IPV6. */
  etherType = 0;
}

export class FrameClassifier {
  readonly result = new ClassifyResult();
  #config: ClassifierConfig;

  constructor(config: ClassifierConfig) {
    this.#config = config;
  }

  setConfig(config: ClassifierConfig): void {
    this.#config = config;
  }

  /**
   * `segmentLength`: for a GSO super-frame (docs/ADAPTER.md "Offload"), the
   * largest datagram it stands for (headers + gso size), which is what the
   * MTU applies to; 0 for a plain frame, whose own length is checked.
   */
  classify(frame: Uint8Array, segmentLength = 0): Verdict {
    const result = this.result;
    result.error = undefined;
    result.reason = undefined;
    result.fragment = false;
    if (frame.length < ETHERNET_HEADER_LENGTH) {
      return this.#malformed(new WireError('TRUNCATED', `Ethernet header: need ${ETHERNET_HEADER_LENGTH} bytes, got ${frame.length}`));
    }
    const etherType = ethernetEtherType(frame);
    if (etherType < ETHERTYPE_MIN) return this.#drop('not-ethernet-ii'); // 802.3 length-typed
    if (etherType === EtherType.VLAN || etherType === EtherType.QINQ) return this.#drop('vlan');
    if (etherType === EtherType.ARP) return (result.verdict = Verdict.LOCAL_ARP);
    if (etherType === EtherType.IPV6) return this.#classifyIpv6(frame, segmentLength);
    if (etherType !== EtherType.IPV4) return this.#drop('not-ipv4');
    return this.#classifyIpv4(frame, frame.subarray(ETHERNET_HEADER_LENGTH), segmentLength);
  }

  #classifyIpv6(frame: Uint8Array, segmentLength: number): Verdict {
    const config = this.#config;
    if (!config.ipv6) return this.#drop('ipv6');
    const datagram = frame.subarray(ETHERNET_HEADER_LENGTH);
    const outcome = classifyIpv6(frame, datagram, config.ipv6, config.mtu, config.forwarding ?? false, this.#isLocalMacBound, segmentLength);
    if (outcome instanceof WireError) return this.#malformed(outcome);
    const result = this.result;
    result.etherType = EtherType.IPV6;
    result.datagramStart = ETHERNET_HEADER_LENGTH;
    result.datagramEnd = ETHERNET_HEADER_LENGTH + ipv6TotalLength(datagram);
    if (outcome === 'local-ndp') return (result.verdict = Verdict.LOCAL_NDP);
    if (outcome === 'tunnel') return (result.verdict = Verdict.TUNNEL);
    return this.#drop(outcome);
  }

  readonly #isLocalMacBound = (frame: Uint8Array): boolean => this.#isLocalMac(frame);

  #classifyIpv4(frame: Uint8Array, datagram: Uint8Array, segmentLength: number): Verdict {
    const problem = checkIpv4(datagram);
    if (problem) return this.#malformed(problem);
    const result = this.result;
    result.etherType = EtherType.IPV4;
    result.datagramStart = ETHERNET_HEADER_LENGTH;
    result.datagramEnd = ETHERNET_HEADER_LENGTH + ipv4TotalLength(datagram);
    const destination = ipv4Destination(datagram);
    const fragment = ipv4IsFragmentBytes(datagram);
    if (!fragment && this.#isDhcpToServer(datagram, destination)) return (result.verdict = Verdict.LOCAL_DHCP);
    if (isGroupDestination(frame)) {
      return this.#drop(inSubnet(destination, MULTICAST_NETWORK, MULTICAST_PREFIX_LENGTH) ? 'multicast' : 'broadcast-not-dhcp');
    }
    if (!this.#isLocalMac(frame)) return this.#drop('not-for-us');
    if (inSubnet(destination, MULTICAST_NETWORK, MULTICAST_PREFIX_LENGTH)) return this.#drop('multicast');
    if (destination === LIMITED_BROADCAST) return this.#drop('broadcast-not-dhcp');
    if (!this.#config.forwarding && ipv4Source(datagram) !== this.#config.hostAddress) return this.#drop('source-not-lease');
    if (!this.#isRouted(destination)) return this.#drop('no-route');
    if ((segmentLength || result.datagramEnd - result.datagramStart) > this.#config.mtu) return this.#drop('too-big');
    result.fragment = fragment;
    return (result.verdict = Verdict.TUNNEL);
  }

  /** UDP 68 → 67 to 255.255.255.255 or the gateway (RFC 2131 §4.1, §4.4.5 renewals are unicast). */
  #isDhcpToServer(datagram: Uint8Array, destination: number): boolean {
    if (ipv4Protocol(datagram) !== IpProtocol.UDP) return false;
    if (destination !== LIMITED_BROADCAST && destination !== this.#config.gateway) return false;
    const udpStart = ipv4HeaderLength(datagram);
    if (ipv4TotalLength(datagram) - udpStart < UDP_HEADER_LENGTH) return false;
    return (
      readU16(datagram, udpStart + UdpField.SOURCE_PORT) === BOOTP_CLIENT_PORT &&
      readU16(datagram, udpStart + UdpField.DESTINATION_PORT) === BOOTP_SERVER_PORT
    );
  }

  #isLocalMac(frame: Uint8Array): boolean {
    const mac = this.#config.localMac;
    for (let i = 0; i < MAC_LENGTH; i++) if (frame[i] !== mac[i]) return false;
    return true;
  }

  #isRouted(destination: number): boolean {
    const networks = this.#config.networks;
    for (let i = 0; i < networks.length; i++) {
      if (inSubnet(destination, networks[i]!.network, networks[i]!.prefixLength)) return true;
    }
    return false;
  }

  #drop(reason: DropReason): Verdict {
    this.result.reason = reason;
    return (this.result.verdict = Verdict.DROP);
  }

  #malformed(error: WireError): Verdict {
    this.result.error = error;
    return this.#drop(`malformed:${error.code}`);
  }
}
