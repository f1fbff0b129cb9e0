/**
 * Node and user names as the frames carry them: 1..MAX_NAME_LENGTH printable
 * ASCII bytes (0x21-0x7e), so a name can never smuggle a NUL, a space or a
 * control character into a log line or a string buffer.
 */
import { ProtocolError } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';
import { canonicalIpv6, ipv6ToBytes } from '../../wire/addr6.js';

export function checkName(name: string, what: string): void {
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) {
    throw new ProtocolError('BAD_VALUE', `${what}: expected 1..${MAX_NAME_LENGTH} characters, got ${name.length}`);
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      throw new ProtocolError('BAD_VALUE', `${what}: character 0x${c.toString(16)} at ${i} is not printable ASCII`);
    }
  }
}

/** The longest domain name in text form (RFC 1035 §2.3.4: 255 octets on the wire). */
export const MAX_DOMAIN_NAME_LENGTH = 253;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * A DNS name as a lease may carry it (search domain): labels of letters,
 * digits and inner hyphens (RFC 1123 §2.1), 1..63 characters each, joined by
 * dots, an optional final dot, at most 253 characters. Nothing else: the name
 * reaches the host's DHCP client scripts and resolv.conf, where a space, a
 * quote, `$`, `;` or a leading `-` could be read as more than a name.
 */
export function isDomainName(name: string): boolean {
  const body = name.endsWith('.') ? name.slice(0, -1) : name;
  if (body.length < 1 || body.length > MAX_DOMAIN_NAME_LENGTH) return false;
  return body.split('.').every((label) => DOMAIN_LABEL.test(label));
}

/** Throws BAD_VALUE unless `name` is a domain name (isDomainName). */
export function checkDomainName(name: string, what: string): void {
  if (!isDomainName(name)) {
    const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
    throw new ProtocolError('BAD_VALUE', `${what}: expected a domain name (letters, digits, inner '-', labels of 1..63 joined by '.', at most ${MAX_DOMAIN_NAME_LENGTH}), got ${shown}`);
  }
}

/** Writes an already checked ASCII name; returns bytes written. */
export function writeAscii(buf: Uint8Array, offset: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[offset + i] = text.charCodeAt(i);
  return text.length;
}

/** Reads `length` bytes as a name, checking the alphabet. */
export function readName(bytes: Uint8Array, offset: number, length: number, what: string): string {
  const name = String.fromCharCode(...bytes.subarray(offset, offset + length));
  checkName(name, what);
  return name;
}

function isIpv6Text(text: string): boolean {
  try {
    ipv6ToBytes(text);
    return true;
  } catch {
    return false;
  }
}

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/;

/** Splits "host:port" / "[v6]:port"; throws BAD_VALUE unless the port is 1..65535. */
export function splitHostPort(name: string): { host: string; port: number } {
  const match = HOST_PORT.exec(name);
  const port = match ? Number(match[1]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw new ProtocolError('BAD_VALUE', `expected host:port with port 1..65535, got "${name}"`);
  }
  let host = name.slice(0, name.length - match[1]!.length - 1);
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!isIpv6Text(host)) throw new ProtocolError('BAD_VALUE', `expected an IPv6 address between the brackets of "${name}", got "${host}"`);
  }
  return { host, port };
}

/**
 * A host:port name as hops are compared: an IPv6 literal in its one RFC 5952
 * spelling (`[0:0:0:0:0:0:0:1]:5555` and `[::1]:5555` are one hop, as they
 * are one socket address); host names and IPv4 addresses exactly as written
 * (a relay admits only the spellings it lists). A name that does not parse
 * is returned unchanged, for the check that refuses it.
 */
export function canonicalHop(name: string): string {
  if (!name.startsWith('[')) return name;
  try {
    const { host, port } = splitHostPort(name);
    return `[${canonicalIpv6(host)}]:${port}`;
  } catch {
    return name;
  }
}

/** The host:port name of `host` (a name, an IPv4 address, or an IPv6 address with or without brackets) and `port`: `[::1]:5555`. */
export function hostPortName(host: string, port: number): string {
  return canonicalHop(host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`);
}
