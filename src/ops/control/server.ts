/**
 * A daemon's control socket: a Unix socket (never a network port) under the
 * run directory, mode 0660, owned by the daemon's user (root) and an
 * optional admin group, answering the control protocol (protocol.ts) with a
 * table of commands.
 *
 * Guarantees: at most MAX_CONNECTIONS clients at once (more are closed on
 * accept), at most MAX_REQUEST_BYTES buffered per connection, an idle
 * connection closed after IDLE_TIMEOUT_MS; a malformed request gets an error
 * line, a throwing command an INTERNAL_ERROR line; nothing escapes a socket
 * handler. A stale socket file left by a crashed daemon is replaced; a live
 * one (another daemon answers) is an error, never stolen.
 */
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../../log.js';
import { errorLine, MAX_REQUEST_BYTES, parseRequest, successLine } from './protocol.js';

export const SOCKET_MODE = 0o660;
const RUN_DIRECTORY_MODE = 0o755;
export const MAX_CONNECTIONS = 16;
const IDLE_TIMEOUT_MS = 10_000;
const MAX_PENDING_REQUESTS = 32;
const LIVENESS_PROBE_MS = 500;

export type CommandHandler = (args: Record<string, unknown>) => unknown;

export interface ControlSocketOptions {
  path: string;
  /** Numeric id of the admin group allowed to connect (besides the owner), if any. */
  gid?: number;
  commands: Record<string, CommandHandler>;
}

export class ControlSocketError extends Error {
  override readonly name = 'ControlSocketError';
  constructor(
    readonly code: 'IN_USE' | 'NOT_A_SOCKET' | 'CANNOT_LISTEN',
    message: string,
  ) {
    super(message);
  }
}

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** True when something answers on `path` (a live daemon), false for a stale file. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (live: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    const timer = setTimeout(() => done(true), LIVENESS_PROBE_MS); // accepted but slow: still someone's
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function clearStale(path: string): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (!existing) return;
  if (!existing.isSocket()) throw new ControlSocketError('NOT_A_SOCKET', `control socket path ${path} exists and is not a socket; remove it or set control.socket to another path`);
  if (await isLive(path)) throw new ControlSocketError('IN_USE', `another daemon answers on ${path}; stop it, or give this one its own control.socket`);
  await unlink(path);
}

export async function answer(line: string, commands: Record<string, CommandHandler>): Promise<string> {
  const parsed = parseRequest(line);
  if (!parsed.ok) return errorLine(parsed.id, parsed.code, parsed.message);
  const { id, command, args } = parsed.request;
  const handler = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!handler) return errorLine(id, 'UNKNOWN_COMMAND', `unknown command "${command}" (this daemon knows: ${Object.keys(commands).join(', ')})`);
  try {
    return successLine(id, await handler(args));
  } catch (error) {
    return errorLine(id, 'INTERNAL_ERROR', `${command} failed: ${(error as Error).message}`);
  }
}

function serve(socket: Socket, commands: Record<string, CommandHandler>): void {
  let buffer = '';
  let pending = 0;
  let busy = Promise.resolve();
  const refuse = (message: string): void => {
    buffer = '';
    socket.end(errorLine(undefined, 'REQUEST_TOO_LARGE', message));
  };
  socket.setEncoding('utf8');
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line.length === 0) continue;
      if (++pending > MAX_PENDING_REQUESTS) return refuse(`more than ${MAX_PENDING_REQUESTS} requests waiting for their answers; read the answers before sending more`);
      // One request at a time per connection: answers come in request order.
      busy = busy.then(async () => {
        const reply = await answer(line, commands);
        pending--;
        if (!socket.destroyed) socket.write(reply);
      });
    }
    if (Buffer.byteLength(buffer) > MAX_REQUEST_BYTES) refuse(`expected a request line of at most ${MAX_REQUEST_BYTES} bytes ending in a newline`);
  });
}

export async function startControlSocket(options: ControlSocketOptions, log: Logger): Promise<ControlSocket> {
  await mkdir(dirname(options.path), { recursive: true, mode: RUN_DIRECTORY_MODE });
  await clearStale(options.path);
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const turnedAway = [...open].filter((s) => !s.writableEnded).length >= MAX_CONNECTIONS;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    if (turnedAway) {
      socket.on('error', () => socket.destroy());
      socket.end(errorLine(undefined, 'INTERNAL_ERROR', `too many control connections (at most ${MAX_CONNECTIONS} at once)`), () => socket.destroy());
      return;
    }
    serve(socket, options.commands);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ControlSocketError('CANNOT_LISTEN', `cannot listen on control socket ${options.path}: ${error.message}`)));
    server.listen(options.path, () => resolve());
  });
  server.on('error', (error) => log.error({ error: error.message }, 'control socket error'));
  // The socket was created with the umask's bits (never wider than 0755: no write, no connect, for others).
  if (options.gid !== undefined) await chown(options.path, process.getuid?.() ?? 0, options.gid);
  await chmod(options.path, SOCKET_MODE);
  log.info({ control: options.path }, 'control socket ready');
  return {
    path: options.path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve()); // removes the socket file when we still may; a stale one is replaced at the next start
      }),
  };
}
