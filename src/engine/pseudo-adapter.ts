/**
 * The pseudo adapter engine: the glue between a FrameDevice (the host's view
 * of the tunnel, a TAP) and the tunnel. Every frame the host writes is
 * classified; ARP, DHCP and (for a lease with IPv6) NDP are answered locally
 * by the emulators, tunnel datagrams (IPv4 and IPv6) go to `onDatagram` with
 * their Ethernet header removed and their EtherType, an IPv6 datagram over
 * the MTU is answered with ICMPv6 Packet Too Big, everything else is dropped
 * and counted. `tick` (called by the app's timer, about once a second) sends
 * the periodic router advertisements of a lease with IPv6; `close` ends
 * them. `deliver` does the reverse for datagrams from
 * the tunnel: Ethernet header (reserved MAC → host MAC) added in a
 * preallocated buffer pool and written to the device in one batch.
 *
 * Guarantees: the frame handler never throws (an unexpected error is counted
 * as `error:internal`); every frame and datagram is counted once under a
 * verdict or a reason; the tunnel path copies nothing and allocates only the
 * datagram view. The device must consume `writeFrames` input before returning
 * (the buffers are reused).
 *
 * Offload (a device with `offload`, docs/ADAPTER.md "Offload"): a TCP
 * super-frame from the host goes to `onDatagram` whole with its GsoInfo (the
 * MTU check applies to its segments); one from the tunnel is written whole
 * with its metadata, or cut into segments here when the device takes only
 * plain frames.
 */
import { OFFLOAD_META_STRIDE, OffloadMeta, type FrameDevice } from '../../adapter/device.js';
import { ArpEmulator, clientArpConfig, forwardingArpConfig, type ArpEmulatorConfig, type ArpVerdict } from '../../emulators/arp.js';
import type { DhcpResponder } from '../../emulators/dhcp.js';
import type { Lease } from '../lease.js';
import { ipv4ToNumber, macToBytes, type Ipv4Address, type MacAddress } from '../wire/addr.js';
import { emitArp, parseArp, ARP_PACKET_LENGTH } from '../wire/arp.js';
import { emitEthernetHeader, EtherType, ETHERNET_HEADER_LENGTH, EthernetField, MAC_LENGTH } from '../wire/ethernet.js';
import { WireError } from '../wire/errors.js';
import { emitIpv4Header, IpProtocol, ipv4Destination, ipv4HeaderLength, ipv4Source, ipv4TotalLength, IPV4_MIN_HEADER_LENGTH } from '../wire/ipv4.js';
import { checkUdp, emitUdpHeader, UDP_HEADER_LENGTH, UdpField } from '../wire/udp.js';
import { readU16 } from '../wire/bytes.js';
import { classifierConfigFromLease, FrameClassifier, Verdict } from './classifier.js';
import { Counters } from './counters.js';
import { DropWarnings, explainDrop } from './drop-warnings.js';
import { deservesFragNeeded, emitFragNeeded, FRAG_NEEDED_FRAME_MAX_LENGTH } from './frag-needed.js';
import { TokenBucket } from './token-bucket.js';
import { Ipv6Responder } from './ipv6-responder.js';
import type { RaIntervals } from '../../emulators/ra-schedule.js';
import { IPV6_HEADER_LENGTH } from '../wire/ipv6.js';
import { checkGso, GSO_FLAG_NEEDS_CSUM, gsoHeaderLength, newGsoInfo, segmentTcp, type GsoInfo } from '../wire/gso.js';

/** pino-compatible. */
export interface DebugLogger {
  debug(obj: object, msg: string): void;
  /** Rate-limited lines about dropped host frames (drop-warnings.ts); optional for tests. */
  warn?(obj: object, msg: string): void;
}

export interface PseudoAdapterOptions {
  device: FrameDevice;
  lease: Lease;
  /** The DHCP server emulator, e.g. `new DhcpServerEmulator(lease)`. */
  dhcp: DhcpResponder;
  /**
   * A datagram for the tunnel; the view is valid only during the call. `gso`
   * is set for a TCP super-frame (an object reused per call, like the view).
   */
  onDatagram: (datagram: Uint8Array, etherType: number, gso?: GsoInfo) => void;
  logger?: DebugLogger;
  counters?: Counters;
  nowMs?: () => number;
  /**
   * The host forwards for other networks (the server's adapter, which carries
   * replies from its LAN; a site gateway client, which carries its branch
   * LAN): accept any IPv4 source, not only the lease's — the server checks
   * sources against what is configured for the client — and answer ARP (and
   * NDP) also for the lease's routes (on the server: the clients' site networks).
   */
  forwarding?: boolean;
  /** Frames per writeFrames batch on the receive path (the pool size). */
  deliverBatchFrames?: number;
  /** ICMP "fragmentation needed" and ICMPv6 "packet too big" replies per second, each (burst the same); default FRAG_NEEDED_PER_SECOND. */
  fragNeededPerSecond?: number;
  /** At most one warning line per drop reason per this interval; default DROP_WARNING_INTERVAL_MS. */
  dropWarningIntervalMs?: number;
  /** For the periodic router advertisements' jitter (default Math.random). */
  random?: () => number;
  /** Their interval bounds (default RFC 4861's, emulators/ra-schedule.ts). */
  raIntervals?: RaIntervals;
}

/** Like Linux's icmp_ratelimit with its burst: enough for path-MTU discovery, too few to flood the host. */
export const FRAG_NEEDED_PER_SECOND = 10;

const DEFAULT_DELIVER_BATCH_FRAMES = 64;
/** Super-frames staged per writeFrames batch (each buffer holds a 64 KiB datagram; allocated on first use). */
const SUPER_FRAME_BUFFERS = 8;
const MAX_SUPER_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + 65535;
const BOOTP_SERVER_PORT = 67;
const BOOTP_CLIENT_PORT = 68;
const DHCP_REPLY_TTL = 64;
const IP_VERSION_4 = 4;
const IP_VERSION_6 = 6;

export class PseudoAdapter {
  readonly counters: Counters;
  readonly #device: FrameDevice;
  readonly #dhcp: DhcpResponder;
  readonly #arp: ArpEmulator;
  readonly #ipv6: Ipv6Responder;
  readonly #classifier: FrameClassifier;
  readonly #onDatagram: PseudoAdapterOptions['onDatagram'];
  readonly #logger: DebugLogger | undefined;
  readonly #forwarding: boolean;
  readonly #nowMs: () => number;
  readonly #pool: Uint8Array[];
  readonly #batch: Uint8Array[] = [];
  /** With an offload device: a metadata row per staged frame (zeros for a plain one). */
  readonly #batchMeta: Uint16Array | undefined;
  readonly #superBuffers: Uint8Array[] = [];
  #superUsed = 0;
  /** Segments of a super-frame for a device without offload. */
  #segmentScratch: Uint8Array | undefined;
  readonly #readGso: GsoInfo = newGsoInfo();
  readonly #dropKeys = new Map<string, string>();
  #controlBuffer = new Uint8Array(ETHERNET_HEADER_LENGTH + 1500);
  readonly #fragNeededBuffer = new Uint8Array(FRAG_NEEDED_FRAME_MAX_LENGTH);
  readonly #fragNeededLimit: TokenBucket;
  readonly #dropWarnings: DropWarnings;
  #mtu: number;
  #gatewayMac: Uint8Array;
  #gateway: number;
  #hostMac: Uint8Array | undefined;
  #hostMacText: MacAddress | undefined;
  #ipIdentification = 0;
  #closed = false;

  constructor(options: PseudoAdapterOptions) {
    this.#device = options.device;
    this.#dhcp = options.dhcp;
    this.#onDatagram = options.onDatagram;
    this.#logger = options.logger;
    this.#forwarding = options.forwarding ?? false;
    this.#nowMs = options.nowMs ?? Date.now;
    this.counters = options.counters ?? new Counters();
    this.#arp = new ArpEmulator(this.#arpConfig(options.lease));
    this.#classifier = new FrameClassifier(classifierConfigFromLease(options.lease, this.#forwarding));
    this.#ipv6 = new Ipv6Responder({
      lease: options.lease,
      forwarding: this.#forwarding,
      write: (frame) => this.#writeControl(frame),
      count: (key) => this.#count(key),
      nowMs: this.#nowMs,
      packetTooBigPerSecond: options.fragNeededPerSecond ?? FRAG_NEEDED_PER_SECOND,
      ...(options.random && { random: options.random }),
      ...(options.raIntervals && { raIntervals: options.raIntervals }),
    });
    this.#gatewayMac = macToBytes(options.lease.gatewayMac);
    this.#gateway = ipv4ToNumber(options.lease.gateway);
    this.#mtu = options.lease.mtu;
    const perSecond = options.fragNeededPerSecond ?? FRAG_NEEDED_PER_SECOND;
    this.#fragNeededLimit = new TokenBucket(perSecond, perSecond);
    this.#dropWarnings = new DropWarnings(options.dropWarningIntervalMs);
    const poolFrames = options.deliverBatchFrames ?? DEFAULT_DELIVER_BATCH_FRAMES;
    this.#pool = Array.from({ length: poolFrames }, () => new Uint8Array(ETHERNET_HEADER_LENGTH + this.#device.mtu));
    this.#batchMeta = this.#device.offload ? new Uint16Array(poolFrames * OFFLOAD_META_STRIDE) : undefined;
    this.#device.onFrames((frames, meta) => this.#onFrames(frames, meta));
  }

  /** The host's MAC, once it has sent ARP or DHCP. */
  get hostMac(): MacAddress | undefined {
    return this.#hostMacText;
  }

  /**
   * Sets the host's MAC when it is known without ARP or DHCP — on the server,
   * the TAP's own address — so datagrams can be delivered before the host
   * has asked for anything.
   */
  setHostMac(mac: MacAddress): void {
    this.#learnHostMac(mac.toLowerCase());
  }

  setLease(lease: Lease): void {
    this.#arp.setConfig(this.#arpConfig(lease));
    this.#classifier.setConfig(classifierConfigFromLease(lease, this.#forwarding));
    this.#dhcp.setLease(lease);
    this.#gatewayMac = macToBytes(lease.gatewayMac);
    this.#gateway = ipv4ToNumber(lease.gateway);
    this.#mtu = lease.mtu;
    this.#ipv6.setLease(lease, this.#gatewayMac, this.#hostMac !== undefined && !this.#closed);
  }

  /**
   * Time passes (the app calls this from its timer; the time itself comes
   * from `nowMs`): the periodic router advertisement when one is due.
   */
  tick(): void {
    this.#ipv6.tick(this.#gatewayMac, this.#hostMac !== undefined && !this.#closed);
  }

  /** The device is going away: no more periodic advertisements (ticks after this send nothing). */
  close(): void {
    this.#closed = true;
    this.tick();
  }

  /** When the next periodic router advertisement is due (undefined: none scheduled). */
  get nextAdvertisementAtMs(): number | undefined {
    return this.#ipv6.nextAdvertisementAtMs;
  }

  /** A forwarding host (the server) also resolves the networks its lease routes through the adapter. */
  #arpConfig(lease: Lease): ArpEmulatorConfig {
    return this.#forwarding ? forwardingArpConfig(lease) : clientArpConfig(lease);
  }

  /**
   * Datagrams from the tunnel to the host: each gets an Ethernet header and
   * the batch is written to the device. Returns how many frames the device
   * accepted; the rest are counted with their reason.
   */
  deliver(datagrams: readonly Uint8Array[]): number {
    if (datagrams.length === 0) return 0;
    if (!this.#hostMac) {
      this.#count('deliver:drop:host-mac-unknown', datagrams.length);
      return 0;
    }
    let accepted = 0;
    for (const datagram of datagrams) {
      if (!this.#stageForDelivery(datagram, this.#hostMac)) continue;
      if (this.#batch.length === this.#pool.length) accepted += this.#flushDeliveries();
    }
    return accepted + this.#flushDeliveries();
  }

  /**
   * Like deliver([datagram]), but batched: the frame is staged now (the
   * datagram may be reused after the call) and written with every other
   * datagram staged in this turn of the event loop, in one writeFrames call.
   */
  deliverSoon(datagram: Uint8Array, gso?: GsoInfo): void {
    if (!this.#hostMac) return this.#count('deliver:drop:host-mac-unknown');
    if (this.#batch.length === this.#pool.length) this.#flushDeliveries();
    const staged = gso ? this.#stageSuperFrame(datagram, gso, this.#hostMac) : this.#stageForDelivery(datagram, this.#hostMac);
    if (!staged || this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flushDeliveries();
    });
  }

  #flushQueued = false;

  #stageForDelivery(datagram: Uint8Array, hostMac: Uint8Array): boolean {
    const etherType = deliveryEtherType(datagram);
    if (etherType === 0) {
      this.#count('deliver:drop:not-ip');
      return false;
    }
    const buffer = this.#pool[this.#batch.length]!;
    if (ETHERNET_HEADER_LENGTH + datagram.length > buffer.length) {
      this.#count('deliver:drop:too-big');
      return false;
    }
    emitEthernetHeader(hostMac, this.#gatewayMac, etherType, buffer, 0);
    buffer.set(datagram, ETHERNET_HEADER_LENGTH);
    this.#batchMeta?.fill(0, this.#batch.length * OFFLOAD_META_STRIDE, (this.#batch.length + 1) * OFFLOAD_META_STRIDE);
    this.#batch.push(buffer.subarray(0, ETHERNET_HEADER_LENGTH + datagram.length));
    return true;
  }

  /** A super-frame from the tunnel: staged whole with its metadata, or as segments when the device has no offload. */
  #stageSuperFrame(datagram: Uint8Array, gso: GsoInfo, hostMac: Uint8Array): boolean {
    const problem = checkGso(datagram, gso);
    if (problem !== undefined) {
      this.#count('deliver:drop:bad-gso');
      this.#logger?.debug({ problem }, 'pseudo adapter: super-frame from the tunnel dropped');
      return false;
    }
    if (!this.#batchMeta) return this.#stageSegments(datagram, gso, hostMac);
    if (this.#superUsed === SUPER_FRAME_BUFFERS || this.#batch.length === this.#pool.length) this.#flushDeliveries();
    const buffer = (this.#superBuffers[this.#superUsed] ??= new Uint8Array(MAX_SUPER_FRAME_LENGTH));
    this.#superUsed++;
    emitEthernetHeader(hostMac, this.#gatewayMac, deliveryEtherType(datagram), buffer, 0);
    buffer.set(datagram, ETHERNET_HEADER_LENGTH);
    const row = this.#batch.length * OFFLOAD_META_STRIDE;
    const meta = this.#batchMeta;
    meta[row + OffloadMeta.FLAGS] = GSO_FLAG_NEEDS_CSUM;
    meta[row + OffloadMeta.GSO_TYPE] = gso.gsoType;
    meta[row + OffloadMeta.HDR_LEN] = ETHERNET_HEADER_LENGTH + gso.hdrLen;
    meta[row + OffloadMeta.GSO_SIZE] = gso.gsoSize;
    meta[row + OffloadMeta.CSUM_START] = ETHERNET_HEADER_LENGTH + gso.csumStart;
    meta[row + OffloadMeta.CSUM_OFFSET] = gso.csumOffset;
    this.#batch.push(buffer.subarray(0, ETHERNET_HEADER_LENGTH + datagram.length));
    this.#count('deliver:super-frames');
    return true;
  }

  #stageSegments(datagram: Uint8Array, gso: GsoInfo, hostMac: Uint8Array): boolean {
    const scratch = (this.#segmentScratch ??= new Uint8Array(MAX_SUPER_FRAME_LENGTH));
    let staged = false;
    segmentTcp(datagram, gso, scratch, (segment) => {
      if (this.#batch.length === this.#pool.length) this.#flushDeliveries();
      staged = this.#stageForDelivery(segment, hostMac) || staged;
    });
    this.#count('deliver:segmented');
    return staged;
  }

  #flushDeliveries(): number {
    if (this.#batch.length === 0) return 0;
    const accepted = this.#device.writeFrames(this.#batch, this.#batchMeta);
    this.#count('deliver:frames', accepted);
    if (accepted < this.#batch.length) this.#count('deliver:drop:write-rejected', this.#batch.length - accepted);
    this.#batch.length = 0;
    this.#superUsed = 0;
    return accepted;
  }

  #onFrames(frames: readonly Uint8Array[], meta: Uint16Array | undefined): void {
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      try {
        if (meta !== undefined && meta[i * OFFLOAD_META_STRIDE + OffloadMeta.GSO_TYPE] !== 0) this.#handleSuperFrame(frame, meta, i * OFFLOAD_META_STRIDE);
        else this.#handleFrame(frame);
      } catch (error) {
        this.#count('error:internal');
        this.#logger?.debug({ err: error }, 'pseudo adapter: unexpected error handling a frame');
      }
    }
  }

  /**
   * A TCP super-frame from the host: classified like its segments would be
   * (the MTU applies to headers + gso size), then handed on whole. Its
   * hdr_len from the kernel is only a hint of the linear part: recomputed.
   */
  #handleSuperFrame(frame: Uint8Array, meta: Uint16Array, row: number): void {
    const gso = this.#readGso;
    gso.flags = meta[row + OffloadMeta.FLAGS]!;
    gso.gsoType = meta[row + OffloadMeta.GSO_TYPE]!;
    gso.gsoSize = meta[row + OffloadMeta.GSO_SIZE]!;
    gso.csumStart = meta[row + OffloadMeta.CSUM_START]! - ETHERNET_HEADER_LENGTH;
    gso.csumOffset = meta[row + OffloadMeta.CSUM_OFFSET]!;
    const datagram = frame.subarray(ETHERNET_HEADER_LENGTH);
    gso.hdrLen = gsoHeaderLength(datagram, gso.csumStart);
    const verdict = this.#classifier.classify(frame, gso.hdrLen + gso.gsoSize);
    if (verdict !== Verdict.TUNNEL) return this.#handleFrame(frame, verdict);
    const result = this.#classifier.result;
    const superDatagram = frame.subarray(result.datagramStart, result.datagramEnd);
    const problem = checkGso(superDatagram, gso);
    if (problem !== undefined) return this.#dropped(frame, 'bad-gso', problem);
    this.#count('rx:tunnel');
    this.#count('rx:super-frames');
    this.#onDatagram(superDatagram, result.etherType, gso);
  }

  #handleFrame(frame: Uint8Array, classified?: Verdict): void {
    const verdict = classified ?? this.#classifier.classify(frame);
    const result = this.#classifier.result;
    switch (verdict) {
      case Verdict.TUNNEL:
        this.#count('rx:tunnel');
        this.#onDatagram(frame.subarray(result.datagramStart, result.datagramEnd), result.etherType);
        return;
      case Verdict.LOCAL_NDP:
        this.#count('rx:local-ndp');
        this.#ipv6.handleNdp(frame, result.datagramEnd, this.#gatewayMac);
        this.#learnHostMac(this.#ipv6.hostMac);
        return;
      case Verdict.LOCAL_ARP:
        this.#count('rx:local-arp');
        this.#handleArp(frame);
        return;
      case Verdict.LOCAL_DHCP:
        this.#count('rx:local-dhcp');
        this.#handleDhcp(frame.subarray(result.datagramStart, result.datagramEnd));
        return;
      default:
        this.#dropped(frame, result.reason ?? 'unknown', result.error?.message);
        if (result.reason === 'too-big') this.#answerTooBig(frame, frame.subarray(result.datagramStart, result.datagramEnd), result.etherType);
    }
  }

  #dropped(frame: Uint8Array, reason: string, error: string | undefined): void {
    this.#count(this.#dropKey(reason));
    this.#logger?.debug({ reason, error, length: frame.length }, 'pseudo adapter: frame dropped');
    const dropped = this.#dropWarnings.note(reason, this.#nowMs());
    if (dropped !== undefined) {
      this.#logger?.warn?.({ reason, dropped, error, intervalMs: this.#dropWarnings.intervalMs }, `dropping frames from the host: ${explainDrop(reason)}`);
    }
  }

  /** ICMP "fragmentation needed" with the tunnel MTU back to the sender (frag-needed.ts), rate-limited. */
  #answerTooBig(frame: Uint8Array, datagram: Uint8Array, etherType: number): void {
    if (etherType === EtherType.IPV6) {
      // ICMPv6 Packet Too Big, back to the frame's sender as an ARP reply goes: the host MAC need not be known yet.
      const sender = frame.subarray(EthernetField.SOURCE, EthernetField.SOURCE + MAC_LENGTH);
      return this.#ipv6.packetTooBig(datagram, this.#gatewayMac, sender);
    }
    if (!deservesFragNeeded(datagram)) return this.#count('icmp:frag-needed:not-sent-for-this');
    if (!this.#fragNeededLimit.take(this.#nowMs())) return this.#count('icmp:frag-needed:rate-limited');
    this.#ipIdentification = (this.#ipIdentification + 1) & 0xffff;
    const reply = { frame, datagram, mtu: this.#mtu, gateway: this.#gateway, gatewayMac: this.#gatewayMac, identification: this.#ipIdentification };
    const length = emitFragNeeded(reply, this.#fragNeededBuffer);
    this.#count('icmp:frag-needed');
    this.#writeControl(this.#fragNeededBuffer.subarray(0, length));
  }

  #handleArp(frame: Uint8Array): void {
    let verdict: ArpVerdict;
    try {
      verdict = this.#arp.handle(parseArp(frame.subarray(ETHERNET_HEADER_LENGTH)));
    } catch (error) {
      return this.#malformed('arp', error);
    }
    this.#learnHostMac(this.#arp.hostMac);
    if (verdict.kind === 'ignored') {
      this.#count(`arp:ignored:${verdict.reason}`);
      return;
    }
    const reply = this.#controlBuffer;
    // Answer the asker at the Ethernet source it used (RFC 826: the reply is unicast to the requester).
    emitEthernetHeader(frame.subarray(EthernetField.SOURCE, EthernetField.SOURCE + MAC_LENGTH), this.#gatewayMac, EtherType.ARP, reply, 0);
    emitArp(verdict.reply, reply, ETHERNET_HEADER_LENGTH);
    this.#count('arp:reply');
    this.#writeControl(reply.subarray(0, ETHERNET_HEADER_LENGTH + ARP_PACKET_LENGTH));
  }

  #handleDhcp(datagram: Uint8Array): void {
    const udpStart = ipv4HeaderLength(datagram);
    const udp = datagram.subarray(udpStart, ipv4TotalLength(datagram));
    const problem = checkUdp(udp, ipv4Source(datagram), ipv4Destination(datagram));
    if (problem) return this.#malformed('dhcp', problem);
    const payload = udp.subarray(UDP_HEADER_LENGTH, readU16(udp, UdpField.LENGTH));
    const verdict = this.#dhcp.handle(payload, this.#nowMs());
    this.#learnHostMac(this.#dhcp.hostMac);
    if (verdict.kind === 'ignored') {
      this.#count(`dhcp:ignored:${verdict.reason}`);
      this.#logger?.debug({ reason: verdict.reason }, 'pseudo adapter: DHCP message ignored');
      return;
    }
    this.#count('dhcp:reply');
    this.#writeControl(this.#wrapDhcpReply(verdict.payload, verdict.to));
  }

  /** UDP 67 → 68, IPv4 from the gateway, Ethernet from the reserved MAC (contract in docs/ARCHITECTURE.md). */
  #wrapDhcpReply(payload: Uint8Array, to: { ip: Ipv4Address; mac: MacAddress }): Uint8Array {
    const udpOffset = ETHERNET_HEADER_LENGTH + IPV4_MIN_HEADER_LENGTH;
    const frameLength = udpOffset + UDP_HEADER_LENGTH + payload.length;
    if (this.#controlBuffer.length < frameLength) this.#controlBuffer = new Uint8Array(frameLength);
    const frame = this.#controlBuffer;
    const destination = ipv4ToNumber(to.ip);
    frame.set(payload, udpOffset + UDP_HEADER_LENGTH);
    emitUdpHeader(BOOTP_SERVER_PORT, BOOTP_CLIENT_PORT, payload.length, frame, udpOffset, this.#gateway, destination);
    emitIpv4Header(
      {
        typeOfService: 0,
        identification: (this.#ipIdentification = (this.#ipIdentification + 1) & 0xffff),
        dontFragment: false,
        moreFragments: false,
        fragmentOffsetBytes: 0,
        timeToLive: DHCP_REPLY_TTL,
        protocol: IpProtocol.UDP,
        source: this.#gateway,
        destination,
        options: new Uint8Array(0),
        payload: new Uint8Array(0),
      },
      UDP_HEADER_LENGTH + payload.length,
      frame,
      ETHERNET_HEADER_LENGTH,
    );
    emitEthernetHeader(macToBytes(to.mac), this.#gatewayMac, EtherType.IPV4, frame, 0);
    return frame.subarray(0, frameLength);
  }

  #writeControl(frame: Uint8Array): void {
    const accepted = this.#device.writeFrames([frame]);
    if (accepted !== 1) this.#count('tx:drop:write-rejected');
  }

  #learnHostMac(mac: MacAddress | undefined): void {
    if (mac === undefined || mac === this.#hostMacText) return;
    this.#hostMacText = mac;
    this.#hostMac = macToBytes(mac);
    this.#logger?.debug({ hostMac: mac }, 'pseudo adapter: learned the host MAC');
  }

  #malformed(what: 'arp' | 'dhcp', error: unknown): void {
    if (!(error instanceof WireError)) throw error;
    this.#count(`${what}:malformed:${error.code}`);
    this.#logger?.debug({ error: error.message }, `pseudo adapter: malformed ${what.toUpperCase()} dropped`);
  }

  #dropKey(reason: string): string {
    let key = this.#dropKeys.get(reason);
    if (key === undefined) this.#dropKeys.set(reason, (key = `rx:drop:${reason}`));
    return key;
  }

  #count(key: string, by = 1): void {
    this.counters.increment(key, by);
  }
}

/** The EtherType a datagram from the tunnel is framed with: by its IP version; 0 for anything else. */
function deliveryEtherType(datagram: Uint8Array): number {
  const version = datagram.length > 0 ? datagram[0]! >>> 4 : 0;
  if (version === IP_VERSION_4 && datagram.length >= IPV4_MIN_HEADER_LENGTH) return EtherType.IPV4;
  if (version === IP_VERSION_6 && datagram.length >= IPV6_HEADER_LENGTH) return EtherType.IPV6;
  return 0;
}
