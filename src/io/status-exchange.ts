/**
 * The status exchange the server and the relay share: the server's status
 * endpoint (for relays that balance a server group) and the relay's probe of
 * it — a TCP listener answering one authenticated question, "how many
 * tunnels do you carry?". One line each way:
 *
 *   relay → server:  "tapvpn-status/1 <nonce: 64 hex digits>\n"
 *   server → relay:  {"v":1,"nonce":"<same>","activeTunnels":N,"mac":"<hex>"}\n
 *
 * mac = HMAC-SHA256(key, "tapvpn-status/1|" + nonce + "|" + N), the key being a
 * 32-byte key file shared by the servers and relays of a group (made with
 * `tapvpn genkey --out status.key`, read with the same 0600 checks as private
 * keys). The fresh nonce makes an old answer useless (no replay); the MAC
 * makes a forged one (a server that looks idle to attract tunnels) fail.
 * Guarantees: the listener reads at most MAX_REQUEST_BYTES per connection,
 * answers or drops within REQUEST_TIMEOUT_MS, and never throws out of a
 * socket handler.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';

export const STATUS_PROTOCOL = 'tapvpn-status/1';
const NONCE_BYTES = 32;
const MAX_REQUEST_BYTES = 128;
const MAX_ANSWER_BYTES = 1024;
const REQUEST_TIMEOUT_MS = 2000;
const REQUEST_LINE = /^tapvpn-status\/1 ([0-9a-f]{64})$/;

export interface ServerStatus {
  activeTunnels: number;
}

export function statusMac(key: Uint8Array, nonce: string, activeTunnels: number): string {
  return createHmac('sha256', key).update(`${STATUS_PROTOCOL}|${nonce}|${activeTunnels}`).digest('hex');
}

/** The server's answer line to a request line, or undefined for a malformed request. */
export function answerStatus(requestLine: string, key: Uint8Array, status: ServerStatus): string | undefined {
  const match = REQUEST_LINE.exec(requestLine.trim());
  if (!match) return undefined;
  const nonce = match[1]!;
  return `${JSON.stringify({ v: 1, nonce, activeTunnels: status.activeTunnels, mac: statusMac(key, nonce, status.activeTunnels) })}\n`;
}

/** Checks an answer line against our nonce and key; returns the status, or an error text. */
export function verifyStatusAnswer(line: string, key: Uint8Array, nonce: string): ServerStatus | string {
  let answer: { v?: unknown; nonce?: unknown; activeTunnels?: unknown; mac?: unknown };
  try {
    answer = JSON.parse(line) as typeof answer;
  } catch {
    return 'answer is not JSON';
  }
  if (answer.v !== 1) return `unsupported status version ${String(answer.v)}`;
  if (answer.nonce !== nonce) return 'answer is for another request (nonce mismatch)';
  const tunnels = answer.activeTunnels;
  if (typeof tunnels !== 'number' || !Number.isInteger(tunnels) || tunnels < 0) return 'activeTunnels is not a count';
  if (typeof answer.mac !== 'string' || !/^[0-9a-f]{64}$/.test(answer.mac)) return 'mac missing';
  const expected = Buffer.from(statusMac(key, nonce, tunnels), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(answer.mac, 'hex'))) return 'mac mismatch (wrong status key, or a forged answer)';
  return { activeTunnels: tunnels };
}

export interface StatusListenerOptions {
  address: string;
  port: number;
  key: Uint8Array;
}

/** Starts the status listener; `status()` is asked at each request. */
export async function startStatusListener(options: StatusListenerOptions, status: () => ServerStatus, log: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\n');
      if (end < 0 && text.length <= MAX_REQUEST_BYTES) return;
      const answer = end >= 0 ? answerStatus(text.slice(0, end), options.key, status()) : undefined;
      if (answer) socket.end(answer);
      else socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  server.on('error', (error) => log.error({ error: error.message }, 'status listener error'));
  const port = (server.address() as { port: number }).port;
  log.info({ status: `${options.address}:${port}` }, 'status endpoint ready');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Asks one server for its status (the relay side). Resolves to the status or an error text. */
export function probeStatus(host: string, port: number, key: Uint8Array, timeoutMs: number): Promise<ServerStatus | string> {
  const nonce = randomBytes(NONCE_BYTES).toString('hex');
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const socket = connect({ host, port });
    const done = (result: ServerStatus | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => socket.write(`${STATUS_PROTOCOL} ${nonce}\n`));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.length > MAX_ANSWER_BYTES) return done('answer too long');
      const end = text.indexOf('\n');
      if (end >= 0) done(verifyStatusAnswer(text.slice(0, end), key, nonce));
    });
    socket.on('error', (error) => done(error.message));
    socket.on('close', () => done('closed without an answer'));
  });
}
