/**
 * The pseudo adapter's IPv6 control plane: NDP from the host answered by the
 * NDP emulator, unsolicited router advertisements after a lease change and
 * periodically while the host is known (`tick`, RFC 4861 §6.2.4 timing from
 * emulators/ra-schedule.ts; the caller drives the time), and
 * ICMPv6 Packet Too Big for datagrams over the tunnel MTU, rate-limited as
 * RFC 4443 §2.4 (f) requires and never for an ICMPv6 error (§2.4 (e)). It
 * only builds frames and hands them to `write`; counting goes through
 * `count` under the adapter's keys (`ndp:reply`, `ndp:ignored:<reason>`,
 * `ndp:malformed:<code>`, `ndp:unsolicited-ra`, `ndp:periodic-ra`,
 * `icmpv6:packet-too-big` with `:rate-limited` and `:not-sent-for-this`).
 */
import { NdpEmulator, type NdpReply, type NdpVerdict } from '../../emulators/ndp.js';
import { RouterAdvertisementSchedule, type RaIntervals } from '../../emulators/ra-schedule.js';
import type { Lease } from '../lease.js';
import type { MacAddress } from '../wire/addr.js';
import { ipv6ToBytes } from '../wire/addr6.js';
import { ETHERNET_HEADER_LENGTH, EthernetField, MAC_LENGTH } from '../wire/ethernet.js';
import { WireError } from '../wire/errors.js';
import { checkIcmpv6, ICMPV6_HEADER_LENGTH } from '../wire/icmpv6.js';
import { IPV6_HEADER_LENGTH, Ipv6Field, ipv6HopLimit, Ipv6NextHeader, ipv6NextHeader } from '../wire/ipv6.js';
import { parseNdp } from '../wire/ndp.js';
import { TokenBucket } from './token-bucket.js';
import { framePacketTooBig, frameNdpReply, ndpReplyFrameLength, PACKET_TOO_BIG_FRAME_LENGTH } from './ipv6-control.js';


export interface Ipv6ResponderOptions {
  lease: Lease;
  /** A forwarding host (the server): neighbour solicitations for the lease's routes are answered too. */
  forwarding?: boolean;
  write: (frame: Uint8Array) => void;
  count: (key: string) => void;
  nowMs: () => number;
  /** Packet Too Big messages per second (burst the same), as the IPv4 frag-needed limit. */
  packetTooBigPerSecond: number;
  /** For the periodic advertisements' jitter (default Math.random). */
  random?: () => number;
  /** Their interval bounds (default RFC 4861's 198–600 s). */
  raIntervals?: RaIntervals;
}

export class Ipv6Responder {
  readonly #ndp: NdpEmulator;
  readonly #write: (frame: Uint8Array) => void;
  readonly #count: (key: string) => void;
  readonly #nowMs: () => number;
  #buffer = new Uint8Array(PACKET_TOO_BIG_FRAME_LENGTH);
  #gateway6: Uint8Array | undefined;
  #mtu: number;
  readonly #tooBigLimit: TokenBucket;
  readonly #raSchedule: RouterAdvertisementSchedule;

  constructor(options: Ipv6ResponderOptions) {
    this.#ndp = new NdpEmulator(options.lease, options.forwarding ?? false);
    this.#write = options.write;
    this.#count = options.count;
    this.#nowMs = options.nowMs;
    this.#mtu = options.lease.mtu;
    this.#tooBigLimit = new TokenBucket(options.packetTooBigPerSecond, options.packetTooBigPerSecond);
    this.#gateway6 = options.lease.ipv6 && ipv6ToBytes(options.lease.ipv6.gateway);
    this.#raSchedule = new RouterAdvertisementSchedule(options.random, options.raIntervals);
  }

  get hostMac(): MacAddress | undefined {
    return this.#ndp.hostMac;
  }

  /** New lease: new answers; the host (if known) hears an unsolicited advertisement right away. */
  setLease(lease: Lease, gatewayMac: Uint8Array, hostKnown: boolean): void {
    this.#ndp.setLease(lease);
    this.#mtu = lease.mtu;
    this.#gateway6 = lease.ipv6 && ipv6ToBytes(lease.ipv6.gateway);
    const advertisement = this.#ndp.advertisement();
    if (!advertisement) return this.#raSchedule.stop();
    if (hostKnown) this.#advertise(advertisement, gatewayMac, 'ndp:unsolicited-ra');
  }

  /**
   * Time passes: the periodic unsolicited advertisement when it is due. It
   * runs only while the lease has IPv6 and the host is known (`hostKnown`
   * false — also once the adapter is closed — stops it; the next start is a
   * new beginning, with the quick first few).
   */
  tick(gatewayMac: Uint8Array, hostKnown: boolean): void {
    const advertisement = this.#ndp.advertisement();
    if (!advertisement || !hostKnown) return this.#raSchedule.stop();
    const nowMs = this.#nowMs();
    this.#raSchedule.start(nowMs);
    if (this.#raSchedule.due(nowMs)) this.#advertise(advertisement, gatewayMac, 'ndp:periodic-ra');
  }

  /** When the next periodic advertisement is due (undefined: none scheduled). */
  get nextAdvertisementAtMs(): number | undefined {
    return this.#raSchedule.nextAtMs;
  }

  /** An NDP datagram (bounds from the classifier) in `frame`. */
  handleNdp(frame: Uint8Array, datagramEnd: number, gatewayMac: Uint8Array): void {
    const datagram = frame.subarray(ETHERNET_HEADER_LENGTH, datagramEnd);
    const source = datagram.subarray(Ipv6Field.SOURCE, Ipv6Field.SOURCE + 16);
    const destination = datagram.subarray(Ipv6Field.DESTINATION, Ipv6Field.DESTINATION + 16);
    const icmp = datagram.subarray(IPV6_HEADER_LENGTH);
    let verdict: NdpVerdict;
    try {
      const problem = checkIcmpv6(icmp, source, destination);
      if (problem) throw problem;
      const message = parseNdp({ type: icmp[0]!, code: icmp[1]!, body: icmp.subarray(ICMPV6_HEADER_LENGTH) });
      const senderMac = frame.subarray(EthernetField.SOURCE, EthernetField.SOURCE + MAC_LENGTH);
      verdict = this.#ndp.handle({ hopLimit: ipv6HopLimit(datagram), source, destination, message, senderMac });
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      return this.#count(`ndp:malformed:${error.code}`);
    }
    if (verdict.kind === 'ignored') return this.#count(`ndp:ignored:${verdict.reason}`);
    if (verdict.message.kind === 'router-advertisement') return this.#advertise(verdict, gatewayMac, 'ndp:reply');
    this.#reply(verdict, gatewayMac, 'ndp:reply');
  }

  /** Answers an IPv6 datagram over the MTU with Packet Too Big, at most once per interval. */
  packetTooBig(datagram: Uint8Array, gatewayMac: Uint8Array, hostMac: Uint8Array): void {
    if (!this.#gateway6) return;
    if (isIcmpv6Error(datagram)) return this.#count('icmpv6:packet-too-big:not-sent-for-this');
    if (!this.#tooBigLimit.take(this.#nowMs())) return this.#count('icmpv6:packet-too-big:rate-limited');
    const length = framePacketTooBig(datagram, this.#mtu, this.#gateway6, gatewayMac, hostMac, this.#buffer);
    this.#count('icmpv6:packet-too-big');
    this.#write(this.#buffer.subarray(0, length));
  }

  /** Every advertisement goes to all-nodes, so each one (solicited too) restarts the periodic wait (RFC 4861 §6.2.6). */
  #advertise(advertisement: NdpReply, gatewayMac: Uint8Array, key: string): void {
    this.#reply(advertisement, gatewayMac, key);
    this.#raSchedule.advertised(this.#nowMs());
  }

  #reply(verdict: NdpReply, gatewayMac: Uint8Array, key: string): void {
    const need = ndpReplyFrameLength(verdict);
    if (this.#buffer.length < need) this.#buffer = new Uint8Array(need);
    const length = frameNdpReply(verdict, gatewayMac, this.#buffer);
    this.#count(key);
    this.#write(this.#buffer.subarray(0, length));
  }
}

/** RFC 4443 §2.4 (e): no error message for an ICMPv6 error (types 0..127) directly after the fixed header. */
function isIcmpv6Error(datagram: Uint8Array): boolean {
  return ipv6NextHeader(datagram) === Ipv6NextHeader.ICMPV6 && datagram.length > IPV6_HEADER_LENGTH && datagram[IPV6_HEADER_LENGTH]! < 128;
}
