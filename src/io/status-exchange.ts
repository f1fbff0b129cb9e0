/**
 * The status exchange the server and the relay share: the server's status
 * endpoint (for relays that balance a server group) and the relay's probe of
 * it — a TCP listener answering one authenticated question, "how many
 * tunnels do you carry?", to authenticated askers only. One line each way:
 *
 *   relay → server:  "tapvpn-status/2 <nonce: 64 hex> <request mac: 64 hex>\n"
 *   server → relay:  {"v":2,"nonce":"<same>","activeTunnels":N,"mac":"<hex>"}\n
 *
 *   request mac = HMAC-SHA256(key, "tapvpn-status/2 request|" + nonce)
 *   answer mac  = HMAC-SHA256(key, "tapvpn-status/2 answer|" + nonce + "|" + N)
 *
 * The key is a 32-byte key file shared by the servers and relays of a group
 * (`tapvpn genkey --out status.key`, read with the same checks as private
 * keys). The request MAC means only a holder of the key gets an answer (an
 * anonymous peer learns nothing, not even the tunnel count); a nonce the
 * listener has answered recently is not answered again (a recorded request
 * replayed); the fresh nonce makes an old answer useless to the relay, and
 * the answer MAC makes a forged one (a server that looks idle to attract
 * tunnels) fail. The two labels keep a request MAC from ever passing as an
 * answer MAC.
 *
 * Guarantees: the listener holds at most `maxConnections` connections, at
 * most `maxPerSource` from one address (more are closed at once), reads at
 * most MAX_REQUEST_BYTES per connection, answers or drops within
 * REQUEST_TIMEOUT_MS, and never throws out of a socket handler.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { unmappedAddress } from './byte-stream.js';

export const STATUS_PROTOCOL = 'tapvpn-status/2';
const NONCE_BYTES = 32;
const MAX_REQUEST_BYTES = 192;
const MAX_ANSWER_BYTES = 1024;
const REQUEST_TIMEOUT_MS = 2000;
const REQUEST_LINE = /^tapvpn-status\/2 ([0-9a-f]{64}) ([0-9a-f]{64})$/;
/** Relays probe every few seconds: a handful each is plenty; more at once is a flood. */
export const DEFAULT_MAX_STATUS_CONNECTIONS = 32;
export const DEFAULT_MAX_STATUS_CONNECTIONS_PER_SOURCE = 4;
/** Answered nonces remembered against replayed requests (at a 2 s probe interval, hours of one relay's probes). */
const REPLAY_MEMORY = 4096;
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export interface ServerStatus {
  activeTunnels: number;
}

function hmacHex(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

function hexEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

export function requestMac(key: Uint8Array, nonce: string): string {
  return hmacHex(key, `${STATUS_PROTOCOL} request|${nonce}`);
}

export function statusMac(key: Uint8Array, nonce: string, activeTunnels: number): string {
  return hmacHex(key, `${STATUS_PROTOCOL} answer|${nonce}|${activeTunnels}`);
}

/** The request line a relay sends for `nonce`. */
export function statusRequest(key: Uint8Array, nonce: string): string {
  return `${STATUS_PROTOCOL} ${nonce} ${requestMac(key, nonce)}\n`;
}

/** The nonce of a well-formed request whose MAC verifies under `key`, else undefined. */
export function authenticateRequest(requestLine: string, key: Uint8Array): string | undefined {
  const match = REQUEST_LINE.exec(requestLine.trim());
  if (!match) return undefined;
  const nonce = match[1]!;
  return hexEqual(requestMac(key, nonce), match[2]!) ? nonce : undefined;
}

/** The server's answer line to an authenticated request's nonce. */
export function answerStatus(nonce: string, key: Uint8Array, status: ServerStatus): string {
  return `${JSON.stringify({ v: 2, nonce, activeTunnels: status.activeTunnels, mac: statusMac(key, nonce, status.activeTunnels) })}\n`;
}

/** Checks an answer line against our nonce and key; returns the status, or an error text. */
export function verifyStatusAnswer(line: string, key: Uint8Array, nonce: string): ServerStatus | string {
  let answer: { v?: unknown; nonce?: unknown; activeTunnels?: unknown; mac?: unknown };
  try {
    answer = JSON.parse(line) as typeof answer;
  } catch {
    return 'answer is not JSON';
  }
  if (answer.v !== 2) return `unsupported status version ${String(answer.v)} (relay and server must both speak ${STATUS_PROTOCOL})`;
  if (answer.nonce !== nonce) return 'answer is for another request (nonce mismatch)';
  const tunnels = answer.activeTunnels;
  if (typeof tunnels !== 'number' || !Number.isInteger(tunnels) || tunnels < 0) return 'activeTunnels is not a count';
  if (typeof answer.mac !== 'string' || !/^[0-9a-f]{64}$/.test(answer.mac)) return 'mac missing';
  if (!hexEqual(statusMac(key, nonce, tunnels), answer.mac)) return 'mac mismatch (wrong status key, or a forged answer)';
  return { activeTunnels: tunnels };
}

/** Nonces answered lately, oldest evicted first: a replayed request gets no answer. */
class RecentNonces {
  private readonly seen = new Set<string>();

  /** False when `nonce` was seen already; otherwise remembers it. */
  add(nonce: string): boolean {
    if (this.seen.has(nonce)) return false;
    this.seen.add(nonce);
    if (this.seen.size > REPLAY_MEMORY) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}

export interface StatusListenerOptions {
  /** A management address (the config's default is loopback): not an interface the internet reaches. */
  address: string;
  port: number;
  key: Uint8Array;
  maxConnections?: number;
  maxPerSource?: number;
}

export interface StatusListener {
  readonly port: number;
  /** Connections closed at once by a limit, and requests not answered (bad MAC, malformed, replayed), so far. */
  readonly refused: { overLimit: number; unauthenticated: number };
  close(): Promise<void>;
}

/** Starts the status listener; `status()` is asked at each authenticated request. */
export async function startStatusListener(options: StatusListenerOptions, status: () => ServerStatus, log: Logger): Promise<StatusListener> {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_STATUS_CONNECTIONS;
  const maxPerSource = options.maxPerSource ?? DEFAULT_MAX_STATUS_CONNECTIONS_PER_SOURCE;
  const open = new Set<Socket>();
  const perSource = new Map<string, number>();
  const recent = new RecentNonces();
  const refused = { overLimit: 0, unauthenticated: 0 };
  let lastRefusalLogMs = -Infinity;
  const noteRefusal = (kind: keyof typeof refused, source: string): void => {
    refused[kind]++;
    const now = Date.now();
    if (now - lastRefusalLogMs < REFUSAL_LOG_INTERVAL_MS) return; // a flood must not flood the log too
    lastRefusalLogMs = now;
    log.warn({ source, refused: { ...refused } }, `status endpoint refused a connection (${kind === 'overLimit' ? 'connection limit' : 'unauthenticated, malformed or replayed request'})`);
  };
  const server: Server = createServer((socket) => {
    const source = unmappedAddress(socket.remoteAddress ?? 'unknown');
    const fromSource = (perSource.get(source) ?? 0) + 1;
    if (open.size >= maxConnections || fromSource > maxPerSource) {
      socket.destroy();
      return noteRefusal('overLimit', source);
    }
    open.add(socket);
    perSource.set(source, fromSource);
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\n');
      if (end < 0 && text.length <= MAX_REQUEST_BYTES) return;
      const nonce = end >= 0 ? authenticateRequest(text.slice(0, end), options.key) : undefined;
      if (nonce !== undefined && recent.add(nonce)) return void socket.end(answerStatus(nonce, options.key, status()));
      socket.destroy();
      noteRefusal('unauthenticated', source);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      open.delete(socket);
      const left = (perSource.get(source) ?? 1) - 1;
      if (left > 0) perSource.set(source, left);
      else perSource.delete(source);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  server.on('error', (error) => log.error({ error: error.message }, 'status listener error'));
  const port = (server.address() as { port: number }).port;
  log.info({ status: `${options.address}:${port}`, maxConnections, maxPerSource }, 'status endpoint ready');
  return {
    port,
    refused,
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
    socket.on('connect', () => socket.write(statusRequest(key, nonce)));
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
