/**
 * DHCP/BOOTP messages (RFC 2131 §2, RFC 951, options per RFC 2132): the
 * 236-byte BOOTP header, the magic cookie, and the options as length-checked
 * TLVs.
 *
 * Guarantees of `parseDhcp`: it throws only `WireError`; every TLV's length is
 * checked against the buffer; options end with END (255) or the message is
 * TRUNCATED; PAD is skipped; a repeated option is concatenated with its
 * earlier instances in order (RFC 3396) before its value is validated, and
 * every option this module knows (dhcp-options.ts) is validated, so the typed
 * accessors cannot fail on a parsed message. Option overload (52, options in
 * sname/file) is rejected as UNSUPPORTED: no client we serve sends it, and
 * honouring it would make sname/file part of the options. The header fields
 * chaddr, sname, file and single-instance option values are views into the
 * input, not copies.
 *
 * `emitDhcp` writes END after the options, splits values longer than 255
 * octets into consecutive instances (RFC 3396), and zero-pads the message to
 * the 300-octet BOOTP minimum (RFC 951 / RFC 1542 §2.1) that some clients
 * still require.
 */
import { WireError, requireLength } from './errors.js';
import { readU16, requireRoom, requireUint, writeU16, writeU32 } from './bytes.js';
import { readIpv4Number } from './addr.js';
import { checkOptionValue, DhcpOption, type DhcpOptions } from './dhcp-options.js';

export * from './dhcp-options.js';

export const BootpOp = { BOOTREQUEST: 1, BOOTREPLY: 2 } as const;
/** RFC 1700 hardware type for Ethernet, and its address length. */
export const HTYPE_ETHERNET = 1;
export const HLEN_ETHERNET = 6;
/** RFC 2131 §2, figure 2: the leftmost bit of `flags`. */
export const BOOTP_BROADCAST_FLAG = 0x8000;
/** RFC 2131 §3: 99.130.83.99. */
export const DHCP_MAGIC_COOKIE = 0x63825363;

export const DhcpField = {
  OP: 0,
  HTYPE: 1,
  HLEN: 2,
  HOPS: 3,
  XID: 4,
  SECS: 8,
  FLAGS: 10,
  CIADDR: 12,
  YIADDR: 16,
  SIADDR: 20,
  GIADDR: 24,
  CHADDR: 28,
  SNAME: 44,
  FILE: 108,
  MAGIC_COOKIE: 236,
  OPTIONS: 240,
} as const;

export const CHADDR_LENGTH = 16;
export const SNAME_LENGTH = 64;
export const FILE_LENGTH = 128;
/** Header and magic cookie: the smallest DHCP message before options. */
export const DHCP_FIXED_LENGTH = DhcpField.OPTIONS;
/** RFC 951's fixed 64-octet vendor area makes 300 octets the BOOTP minimum (RFC 1542 §2.1). */
export const BOOTP_MIN_MESSAGE_LENGTH = 300;
const OPTION_MAX_VALUE_LENGTH = 255;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** Bit 15 is the broadcast flag (BOOTP_BROADCAST_FLAG); the rest must be zero but are carried as received. */
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** 16 octets; the first `hlen` are the hardware address. Shorter on emit means zero-padded. */
  chaddr: Uint8Array;
  /** 64 octets, NUL-padded (shorter on emit means zero-padded). */
  sname: Uint8Array;
  /** 128 octets, NUL-padded (shorter on emit means zero-padded). */
  file: Uint8Array;
  options: DhcpOptions;
}

export function parseDhcp(bytes: Uint8Array): DhcpMessage {
  requireLength(bytes, DHCP_FIXED_LENGTH, 'DHCP message');
  const op = bytes[DhcpField.OP]!;
  if (op !== BootpOp.BOOTREQUEST && op !== BootpOp.BOOTREPLY) {
    throw new WireError('BAD_VALUE', `DHCP op: expected 1 (BOOTREQUEST) or 2 (BOOTREPLY), got ${op}`);
  }
  const hlen = bytes[DhcpField.HLEN]!;
  if (hlen > CHADDR_LENGTH) throw new WireError('BAD_VALUE', `DHCP hlen: expected at most ${CHADDR_LENGTH}, got ${hlen}`);
  const cookie = readIpv4Number(bytes, DhcpField.MAGIC_COOKIE);
  if (cookie !== DHCP_MAGIC_COOKIE) {
    throw new WireError('BAD_VALUE', `DHCP magic cookie: expected 0x63825363, got 0x${cookie.toString(16).padStart(8, '0')}`);
  }
  return {
    op,
    htype: bytes[DhcpField.HTYPE]!,
    hlen,
    hops: bytes[DhcpField.HOPS]!,
    xid: readIpv4Number(bytes, DhcpField.XID),
    secs: readU16(bytes, DhcpField.SECS),
    flags: readU16(bytes, DhcpField.FLAGS),
    ciaddr: readIpv4Number(bytes, DhcpField.CIADDR),
    yiaddr: readIpv4Number(bytes, DhcpField.YIADDR),
    siaddr: readIpv4Number(bytes, DhcpField.SIADDR),
    giaddr: readIpv4Number(bytes, DhcpField.GIADDR),
    chaddr: bytes.subarray(DhcpField.CHADDR, DhcpField.CHADDR + CHADDR_LENGTH),
    sname: bytes.subarray(DhcpField.SNAME, DhcpField.SNAME + SNAME_LENGTH),
    file: bytes.subarray(DhcpField.FILE, DhcpField.FILE + FILE_LENGTH),
    options: parseOptions(bytes),
  };
}

function parseOptions(bytes: Uint8Array): Map<number, Uint8Array> {
  const options = new Map<number, Uint8Array>();
  let at: number = DhcpField.OPTIONS;
  for (;;) {
    if (at >= bytes.length) throw new WireError('TRUNCATED', `DHCP options: no END option (255) before the end of the message at octet ${at}`);
    const code = bytes[at]!;
    if (code === DhcpOption.END) break;
    if (code === DhcpOption.PAD) {
      at++;
      continue;
    }
    if (at + 1 >= bytes.length) throw new WireError('TRUNCATED', `DHCP option ${code} at octet ${at}: no length octet`);
    const length = bytes[at + 1]!;
    const end = at + 2 + length;
    if (end > bytes.length) {
      throw new WireError('TRUNCATED', `DHCP option ${code} at octet ${at}: length ${length} runs past the message end (${bytes.length - at - 2} octets left)`);
    }
    const value = bytes.subarray(at + 2, end);
    const earlier = options.get(code);
    options.set(code, earlier ? concat(earlier, value) : value); // RFC 3396: repeated instances form one value
    at = end;
  }
  if (options.has(DhcpOption.OPTION_OVERLOAD)) {
    throw new WireError('UNSUPPORTED', 'DHCP option 52 (option overload): options in sname/file are not supported');
  }
  for (const [code, value] of options) checkOptionValue(code, value);
  return options;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Octets `emitDhcp` writes for `msg`, padding to the BOOTP minimum included. */
export function dhcpLength(msg: Pick<DhcpMessage, 'options'>): number {
  return Math.max(BOOTP_MIN_MESSAGE_LENGTH, DHCP_FIXED_LENGTH + optionsLength(msg.options) + 1);
}

/** Octets the TLVs of `options` take, END excluded. */
export function optionsLength(options: DhcpOptions): number {
  let length = 0;
  for (const value of options.values()) length += optionLength(value.length);
  return length;
}

/** Octets one option with a value of `valueLength` octets takes, split per RFC 3396 if longer than 255. */
export function optionLength(valueLength: number): number {
  const instances = Math.max(1, Math.ceil(valueLength / OPTION_MAX_VALUE_LENGTH));
  return 2 * instances + valueLength;
}

/** Writes `msg` at `offset`; returns the octets written (dhcpLength). Throws WireError for fields out of range or invalid option values. */
export function emitDhcp(msg: DhcpMessage, buf: Uint8Array, offset = 0): number {
  checkHeader(msg);
  const length = dhcpLength(msg);
  requireRoom(buf, offset, length, 'DHCP message');
  buf.fill(0, offset, offset + length);
  buf[offset + DhcpField.OP] = msg.op;
  buf[offset + DhcpField.HTYPE] = msg.htype;
  buf[offset + DhcpField.HLEN] = msg.hlen;
  buf[offset + DhcpField.HOPS] = msg.hops;
  writeU32(buf, offset + DhcpField.XID, msg.xid);
  writeU16(buf, offset + DhcpField.SECS, msg.secs);
  writeU16(buf, offset + DhcpField.FLAGS, msg.flags);
  writeU32(buf, offset + DhcpField.CIADDR, msg.ciaddr);
  writeU32(buf, offset + DhcpField.YIADDR, msg.yiaddr);
  writeU32(buf, offset + DhcpField.SIADDR, msg.siaddr);
  writeU32(buf, offset + DhcpField.GIADDR, msg.giaddr);
  buf.set(msg.chaddr, offset + DhcpField.CHADDR);
  buf.set(msg.sname, offset + DhcpField.SNAME);
  buf.set(msg.file, offset + DhcpField.FILE);
  writeU32(buf, offset + DhcpField.MAGIC_COOKIE, DHCP_MAGIC_COOKIE);
  let at = offset + DhcpField.OPTIONS;
  for (const [code, value] of msg.options) at = emitOption(code, value, buf, at);
  buf[at] = DhcpOption.END;
  return length;
}

function emitOption(code: number, value: Uint8Array, buf: Uint8Array, at: number): number {
  let start = 0;
  do {
    const chunk = Math.min(OPTION_MAX_VALUE_LENGTH, value.length - start);
    buf[at] = code;
    buf[at + 1] = chunk;
    buf.set(value.subarray(start, start + chunk), at + 2);
    at += 2 + chunk;
    start += chunk;
  } while (start < value.length);
  return at;
}

function checkHeader(msg: DhcpMessage): void {
  if (msg.op !== BootpOp.BOOTREQUEST && msg.op !== BootpOp.BOOTREPLY) {
    throw new WireError('BAD_VALUE', `DHCP op: expected 1 (BOOTREQUEST) or 2 (BOOTREPLY), got ${msg.op}`);
  }
  requireUint(msg.htype, 0xff, 'DHCP htype');
  requireUint(msg.hlen, CHADDR_LENGTH, 'DHCP hlen');
  requireUint(msg.hops, 0xff, 'DHCP hops');
  requireUint(msg.xid, 0xffffffff, 'DHCP xid');
  requireUint(msg.secs, 0xffff, 'DHCP secs');
  requireUint(msg.flags, 0xffff, 'DHCP flags');
  for (const field of ['ciaddr', 'yiaddr', 'siaddr', 'giaddr'] as const) requireUint(msg[field], 0xffffffff, `DHCP ${field}`);
  requireAtMost(msg.chaddr, CHADDR_LENGTH, 'chaddr');
  requireAtMost(msg.sname, SNAME_LENGTH, 'sname');
  requireAtMost(msg.file, FILE_LENGTH, 'file');
  for (const [code, value] of msg.options) {
    requireUint(code, 0xff, 'DHCP option code');
    if (code === DhcpOption.PAD || code === DhcpOption.END) throw new WireError('BAD_VALUE', `DHCP option code ${code} is PAD/END, not an option`);
    if (code === DhcpOption.OPTION_OVERLOAD) throw new WireError('UNSUPPORTED', 'DHCP option 52 (option overload) is not supported');
    checkOptionValue(code, value);
  }
}

function requireAtMost(field: Uint8Array, max: number, name: string): void {
  if (field.length > max) throw new WireError('OVERSIZED', `DHCP ${name}: expected at most ${max} octets, got ${field.length}`);
}
