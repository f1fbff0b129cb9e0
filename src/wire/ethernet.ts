/**
 * Ethernet II frames (IEEE 802.3 with an EtherType, RFC 894), as a TAP device
 * reads and writes them: destination MAC, source MAC, EtherType, payload — no
 * preamble and no FCS. 802.3 length-typed frames (type field < 0x0600) and
 * VLAN tags are not supported. Parsed views are `subarray`s of the input; the
 * field accessors read the raw bytes without allocating (for the data path).
 */
import { WireError } from './errors.js';
import { readU16, requireRoom, writeU16 } from './bytes.js';

export const ETHERNET_HEADER_LENGTH = 14;
export const MAC_LENGTH = 6;

/** Byte offsets of the header fields. */
export const EthernetField = { DESTINATION: 0, SOURCE: 6, ETHERTYPE: 12, PAYLOAD: 14 } as const;

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100, // IEEE 802.1Q tag
  QINQ: 0x88a8, // IEEE 802.1ad tag
  IPV6: 0x86dd,
} as const;

/** Type field values below this are 802.3 lengths, not EtherTypes (IEEE 802.3 §3.2.6). */
export const ETHERTYPE_MIN = 0x0600;
const IEEE_802_3_MAX_LENGTH = 1500;

export interface EthernetRepr {
  destination: Uint8Array; // 6 bytes
  source: Uint8Array; // 6 bytes
  etherType: number;
  payload: Uint8Array;
}

export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Reads the type field of a frame known to be at least 14 bytes long. */
export function ethernetEtherType(frame: Uint8Array): number {
  return readU16(frame, EthernetField.ETHERTYPE);
}

/** True when the destination's group bit (I/G, first octet bit 0) is set: broadcast or multicast. */
export function isGroupDestination(frame: Uint8Array): boolean {
  return (frame[EthernetField.DESTINATION]! & 0x01) !== 0;
}

/** True when the destination is ff:ff:ff:ff:ff:ff. */
export function isBroadcastDestination(frame: Uint8Array): boolean {
  for (let i = 0; i < MAC_LENGTH; i++) if (frame[EthernetField.DESTINATION + i] !== 0xff) return false;
  return true;
}

/**
 * Checks the header without allocating on success; returns the problem as a
 * WireError (not thrown) so the data path can count it. Accepts only Ethernet
 * II frames with a non-VLAN EtherType.
 */
export function checkEthernet(frame: Uint8Array): WireError | undefined {
  if (frame.length < ETHERNET_HEADER_LENGTH) {
    return new WireError('TRUNCATED', `Ethernet header: need ${ETHERNET_HEADER_LENGTH} bytes, got ${frame.length}`);
  }
  const type = ethernetEtherType(frame);
  if (type <= IEEE_802_3_MAX_LENGTH) {
    return new WireError('UNSUPPORTED', `Ethernet type field: 802.3 length-typed frame (length ${type}) is not supported; expected an EtherType >= 0x0600`);
  }
  if (type < ETHERTYPE_MIN) {
    return new WireError('BAD_VALUE', `Ethernet type field: 0x${hex16(type)} is neither an 802.3 length (<= 1500) nor an EtherType (>= 0x0600)`);
  }
  if (type === EtherType.VLAN || type === EtherType.QINQ) {
    return new WireError('UNSUPPORTED', `Ethernet EtherType 0x${hex16(type)}: VLAN-tagged frames are not supported`);
  }
  return undefined;
}

export function parseEthernet(frame: Uint8Array): EthernetRepr {
  const problem = checkEthernet(frame);
  if (problem) throw problem;
  return {
    destination: frame.subarray(EthernetField.DESTINATION, EthernetField.DESTINATION + MAC_LENGTH),
    source: frame.subarray(EthernetField.SOURCE, EthernetField.SOURCE + MAC_LENGTH),
    etherType: ethernetEtherType(frame),
    payload: frame.subarray(ETHERNET_HEADER_LENGTH),
  };
}

export function ethernetLength(repr: Pick<EthernetRepr, 'payload'>): number {
  return ETHERNET_HEADER_LENGTH + repr.payload.length;
}

/** Writes only the 14-byte header at `offset` (the payload is written in place by the caller); returns 14. */
export function emitEthernetHeader(
  destination: Uint8Array,
  source: Uint8Array,
  etherType: number,
  buf: Uint8Array,
  offset = 0,
): number {
  requireMac(destination, 'destination');
  requireMac(source, 'source');
  if (!Number.isInteger(etherType) || etherType < ETHERTYPE_MIN || etherType > 0xffff) {
    throw new WireError('BAD_VALUE', `Ethernet EtherType: expected 0x0600..0xffff, got ${etherType}`);
  }
  requireRoom(buf, offset, ETHERNET_HEADER_LENGTH, 'Ethernet header');
  buf.set(destination, offset + EthernetField.DESTINATION);
  buf.set(source, offset + EthernetField.SOURCE);
  writeU16(buf, offset + EthernetField.ETHERTYPE, etherType);
  return ETHERNET_HEADER_LENGTH;
}

/** Writes header and payload; returns the frame length. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, offset = 0): number {
  const length = ethernetLength(repr);
  requireRoom(buf, offset, length, 'Ethernet frame');
  emitEthernetHeader(repr.destination, repr.source, repr.etherType, buf, offset);
  buf.set(repr.payload, offset + ETHERNET_HEADER_LENGTH);
  return length;
}

function requireMac(mac: Uint8Array, what: string): void {
  if (mac.length !== MAC_LENGTH) throw new WireError('BAD_VALUE', `Ethernet ${what} MAC: expected 6 bytes, got ${mac.length}`);
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}
