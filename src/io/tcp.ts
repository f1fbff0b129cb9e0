/**
 * TCP as the drivers see it: a listener that is a ConnectionSource, and a
 * Dial with a connect timeout. `net.Socket` is a ByteStream as is.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { loadTapBinding } from '../../adapter/native-binding.js';
import { splitHostPort } from '../protocol/frames/names.js';
import { markChunksReused, unmappedAddress, type ByteStream, type ConnectionSource, type Dial, type Peer } from './byte-stream.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The sockets' one read buffer: Node's own per-read allocation size. */
const READ_BUFFER_BYTES = 64 * 1024;
/** Connections the kernel may hold completed for us to accept (Node's listeners use 511). */
const LISTEN_BACKLOG = 511;
/** How long accepting pauses after accept4 failed for want of descriptors or memory. */
const ACCEPT_RETRY_MS = 100;

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
 *
 * The addon accepts (net.Server cannot give its sockets a read buffer of
 * ours) and each connection becomes a net.Socket({ fd }) that reads into the
 * process's one read buffer (socketReadingShared): a server under load then
 * allocates nothing per read, where Node's own sockets took a fresh 64 KiB
 * each time — most of the server's peak memory, as garbage.
 */
export async function listenTcp(address: string, port: number, onError: (error: Error) => void, bound?: BoundPort): Promise<TcpListener> {
  const binding = loadTapBinding();
  const listening = bound ?? binding.bindTcp(address, port);
  let accept: ((stream: ByteStream, peer: Peer) => void) | undefined;
  let resumeTimer: NodeJS.Timeout | undefined;
  let acceptor: object;
  /** An accept error was reported and no connection has been accepted since: a lasting EMFILE is said once, not every retry. */
  let failing = false;
  const onAccepted = (fd: number, error: NodeJS.ErrnoException | undefined): void => {
    if (error) return pauseAccepting(error);
    failing = false;
    let socket: Socket;
    try {
      socket = socketReadingShared({ fd, readable: true, writable: true });
    } catch (wrapError) {
      binding.close(fd);
      return onError(wrapError as Error);
    }
    if (!accept) return void socket.destroy();
    accept(socket, { address: unmappedAddress(socket.remoteAddress ?? 'unknown'), port: socket.remotePort ?? 0 });
  };
  // Out of descriptors or memory: say so, and leave the backlog alone a while (the kernel keeps it) instead of spinning on it.
  const pauseAccepting = (error: Error): void => {
    if (!failing) onError(error);
    failing = true;
    if (resumeTimer) return;
    binding.setAccepting(acceptor, false);
    resumeTimer = setTimeout(() => {
      resumeTimer = undefined;
      binding.setAccepting(acceptor, true);
    }, ACCEPT_RETRY_MS);
  };
  try {
    acceptor = binding.startAccepting(listening.fd, LISTEN_BACKLOG, onAccepted);
  } catch (error) {
    if (!bound) binding.close(listening.fd);
    throw error;
  }
  return {
    port: listening.port,
    onConnection: (handler) => void (accept = handler),
    // Stops accepting now; the connections already accepted are their owners' to close.
    close: async () => {
      clearTimeout(resumeTimer);
      binding.stopAccepting(acceptor);
    },
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
 * The read buffer every socket of the process reads into (net's `onread`)
 * instead of a fresh 64 KiB per read, which under load was most of the
 * daemons' garbage. One is enough: a read's `data` listener runs right
 * after it, before any other socket reads, and one buffer for all is what
 * keeps a server's memory flat in its number of clients. With onread Node
 * emits no `data`; the callback emits it, so the socket is still a
 * ByteStream (and pause/resume still stop and start the reads). Each chunk
 * is a view that the next read overwrites: the stream is marked, and its
 * reader must consume or copy a chunk before the listener returns.
 */
const sharedReadBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

function socketReadingShared(options: SocketConstructorOpts): Socket {
  // true: keep reading; a listener that paused the socket has already stopped the reads (Socket.pause).
  const onread: OnReadOpts = { buffer: sharedReadBuffer, callback: (bytes) => (socket.emit('data', sharedReadBuffer.subarray(0, bytes)), true) };
  // @types/node 20 leaves onread out of the constructor's options; Node 20's net.Socket constructor reads it (lib/net.js).
  const socket: Socket = new Socket({ ...options, onread } as SocketConstructorOpts);
  markChunksReused(socket);
  return socket;
}

function connectReusingReads(host: string, port: number): Socket {
  return socketReadingShared({}).connect({ host, port });
}
