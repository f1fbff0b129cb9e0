/**
 * TCP as the drivers see it: a listener that is a ConnectionSource, and a
 * Dial with a connect timeout. `net.Socket` is a ByteStream as is.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loadTapBinding } from '../../adapter/native-binding.js';
import { splitHostPort } from '../protocol/frames/names.js';
import { markChunksReused, unmappedAddress, type ByteStream, type ConnectionSource, type Dial, type Peer } from './byte-stream.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A dialled socket's one read buffer: Node's own per-read allocation size. */
const READ_BUFFER_BYTES = 64 * 1024;

export interface TcpListener extends ConnectionSource {
  readonly port: number;
  /** Stops accepting (open connections stay). */
  close(): Promise<void>;
}

/**
 * A port taken but not yet listened on (bindTcp): the kernel completes no
 * handshake on it, so nothing connects before listenTcp(…, bound).
 */
export interface BoundPort {
  readonly fd: number;
  readonly port: number;
}

/**
 * Binds address:port (an IP literal; port 0: any free one) without
 * listening — what a daemon does while privileged (a port below 1024 needs
 * it), so that it listens, and accepts, only after dropping privileges.
 */
export function bindTcp(address: string, port: number): BoundPort {
  return loadTapBinding().bindTcp(address, port);
}

/** Closes a bound port that will not be listened on (start-up failed). */
export function closeBound(bound: BoundPort): void {
  loadTapBinding().close(bound.fd);
}

/**
 * Listens on address:port (port 0: any free one), or on `bound` (the fd
 * bindTcp returned, which this listener then owns); connections wait for
 * onConnection's handler.
 */
export async function listenTcp(address: string, port: number, onError: (error: Error) => void, bound?: BoundPort): Promise<TcpListener> {
  let accept: ((stream: ByteStream, peer: Peer) => void) | undefined;
  const server: Server = createServer((socket: Socket) => {
    if (!accept) return void socket.destroy();
    accept(socket, { address: unmappedAddress(socket.remoteAddress ?? 'unknown'), port: socket.remotePort ?? 0 });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (bound) server.listen({ fd: bound.fd }, () => resolve());
    else server.listen(port, address, () => resolve());
  });
  server.on('error', onError);
  return {
    port: bound ? bound.port : (server.address() as { port: number }).port,
    onConnection: (handler) => void (accept = handler),
    // Stops accepting now; the connections already accepted are their owners' to close.
    close: async () => void server.close(),
  };
}

/** Dials host:port; reports once, with the socket or why not (never throws). */
export function dialTcp(timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Dial {
  return (address, done) => {
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(address));
    } catch (error) {
      return queueMicrotask(() => done({ ok: false, reason: (error as Error).message }));
    }
    const socket = connectReusingReads(host, port);
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return; // a later error belongs to the stream's owner, which listens too
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      done({ ok: false, reason });
    };
    const timer = setTimeout(() => fail(`connect to ${address} timed out after ${timeoutMs} ms`), timeoutMs);
    socket.on('error', (error) => fail(`connect to ${address}: ${error.message}`));
    socket.once('connect', () => {
      settled = true;
      clearTimeout(timer);
      done({ ok: true, stream: socket, address });
    });
  };
}

/**
 * A socket that reads into one buffer of its own (net's `onread`) instead of
 * a fresh 64 KiB per read, which under load was most of the client's garbage.
 * With onread Node emits no `data`; the callback emits it, so the socket is
 * still a ByteStream (and pause/resume still stop and start the reads). Each
 * chunk is a view that the next read overwrites: the stream is marked, and
 * its reader must consume or copy a chunk before the listener returns.
 * Only dialled sockets: net.createServer has no onread for accepted ones.
 */
function connectReusingReads(host: string, port: number): Socket {
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const socket: Socket = connect({
    host,
    port,
    // true: keep reading; a listener that paused the socket has already stopped the reads (Socket.pause).
    onread: { buffer, callback: (bytes: number) => (socket.emit('data', buffer.subarray(0, bytes)), true) },
  });
  markChunksReused(socket);
  return socket;
}
