/**
 * Node and user names as the frames carry them: 1..MAX_NAME_LENGTH printable
 * ASCII bytes (0x21-0x7e), so a name can never smuggle a NUL, a space or a
 * control character into a log line or a string buffer.
 */
import { ProtocolError } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';

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

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/;

/** Splits "host:port" / "[v6]:port"; throws BAD_VALUE unless the port is 1..65535. */
export function splitHostPort(name: string): { host: string; port: number } {
  const match = HOST_PORT.exec(name);
  const port = match ? Number(match[1]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw new ProtocolError('BAD_VALUE', `expected host:port with port 1..65535, got "${name}"`);
  }
  let host = name.slice(0, name.length - match[1]!.length - 1);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port };
}
