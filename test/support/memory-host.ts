/**
 * A host on the far side of an in-memory adapter: what the kernel would be
 * on a real TAP. It takes its address from the DHCP emulator (DISCOVER →
 * OFFER → REQUEST → ACK, built from the dhclient capture), sends
 * ping-shaped ICMP datagrams to the gateway's MAC and keeps every IPv4
 * datagram written to it.
 */
import type { FrameDevice } from '../../adapter/device.js';
import { DEFAULT_GATEWAY_MAC } from '../../src/lease.js';
import { ipv4ToNumber, numberToIpv4 } from '../../src/wire/addr.js';
import { DhcpMessageType, DhcpOption, dhcpLength, emitDhcp, encodeUint32, parseDhcp, type DhcpMessage } from '../../src/wire/dhcp.js';
import { EtherType, parseEthernet } from '../../src/wire/ethernet.js';
import { IpProtocol, parseIpv4, type Ipv4Repr } from '../../src/wire/ipv4.js';
import { parseUdp } from '../../src/wire/udp.js';
import { loadDhcpFixture } from '../fixtures/dhcp/fixtures.js';
import { ipv4Frame } from '../unit/engine/frames.js';
import { eventually } from './eventually.js';

export const CAPTURE_MAC = '02:00:5e:10:00:aa'; // chaddr of the dhclient capture

export class MemoryHost {
  /** IPv4 datagrams the adapter wrote to this host, parsed. */
  readonly datagrams: Ipv4Repr[] = [];
  private readonly dhcpReplies: DhcpMessage[] = [];

  constructor(
    readonly device: FrameDevice,
    readonly mac = CAPTURE_MAC,
  ) {
    device.onFrames((frames) => {
      for (const frame of frames) this.receive(frame.slice());
    });
  }

  /** DISCOVER → OFFER → REQUEST → ACK with the adapter's emulator; returns the acknowledged address. */
  async takeLease(): Promise<string> {
    this.sendDhcp(DhcpMessageType.DISCOVER, []);
    const offer = await this.dhcpReply(DhcpMessageType.OFFER);
    const server = offer.options.get(DhcpOption.SERVER_IDENTIFIER)!;
    this.sendDhcp(DhcpMessageType.REQUEST, [[DhcpOption.REQUESTED_IP_ADDRESS, encodeUint32(offer.yiaddr)], [DhcpOption.SERVER_IDENTIFIER, server]]);
    const ack = await this.dhcpReply(DhcpMessageType.ACK);
    return numberToIpv4(ack.yiaddr);
  }

  /** An ICMP echo request from `src` to `dst`, sent to the gateway's reserved MAC as the host's routes say. */
  ping(src: string, dst: string, size = 56): void {
    this.device.writeFrames([ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, srcMac: this.mac, src, dst, payload: new Uint8Array(size).fill(0x5a) })]);
  }

  /** Waits (bounded) for a datagram from `src` to `dst`. */
  async expect(src: string, dst: string, what: string): Promise<Ipv4Repr> {
    const match = (d: Ipv4Repr): boolean => d.source === ipv4ToNumber(src) && d.destination === ipv4ToNumber(dst);
    await eventually(what, () => this.datagrams.some(match), 5_000);
    return this.datagrams.find(match)!;
  }

  has(src: string, dst: string): boolean {
    return this.datagrams.some((d) => d.source === ipv4ToNumber(src) && d.destination === ipv4ToNumber(dst));
  }

  private sendDhcp(type: number, options: Array<[number, Uint8Array]>): void {
    const base = parseDhcp(loadDhcpFixture('dhclient-discover'));
    const msg: DhcpMessage = { ...base, options: new Map([[DhcpOption.MESSAGE_TYPE, Uint8Array.of(type)], ...options]) };
    const payload = new Uint8Array(dhcpLength(msg));
    emitDhcp(msg, payload);
    this.device.writeFrames([ipv4Frame({ dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: this.mac, src: '0.0.0.0', dst: '255.255.255.255', udp: { sourcePort: 68, destinationPort: 67 }, payload })]);
  }

  private async dhcpReply(type: number): Promise<DhcpMessage> {
    const find = (): DhcpMessage | undefined => this.dhcpReplies.find((m) => m.options.get(DhcpOption.MESSAGE_TYPE)?.[0] === type);
    await eventually(`a DHCP reply of type ${type}`, () => find() !== undefined, 5_000);
    return find()!;
  }

  private receive(frame: Uint8Array): void {
    const ethernet = parseEthernet(frame);
    if (ethernet.etherType !== EtherType.IPV4) return;
    const ip = parseIpv4(ethernet.payload);
    if (ip.protocol === IpProtocol.UDP) {
      const udp = parseUdp(ip.payload, ip.source, ip.destination);
      if (udp.sourcePort === 67) return void this.dhcpReplies.push(parseDhcp(udp.payload));
    }
    this.datagrams.push(ip);
  }
}

/** A ping-shaped IPv4 datagram (no Ethernet header), for sending through a tunnel directly. */
export function icmpDatagram(src: string, dst: string): Uint8Array {
  return ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src, dst }).slice(14);
}
