/**
 * One client per adapter: an abstract Unix socket named after the adapter
 * (`@tapvpn-client/<adapter>`), bound for as long as the client lives. The
 * kernel releases it when the process dies, however it dies, so there is no
 * stale lock file to judge. Abstract sockets belong to the network
 * namespace, like interface names, so the lock means exactly "this adapter
 * name in this namespace". A second client finds the name taken, connects,
 * reads the holder's PID and client name, and refuses before it dials the
 * server.
 */
import { connect, createServer, type Server } from 'node:net';

export class AdapterLockedError extends Error {
  override readonly name = 'AdapterLockedError';
  readonly code = 'ADAPTER_LOCKED';
}

export interface AdapterLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  name: string;
}

const HOLDER_READ_TIMEOUT_MS = 2_000;

function lockPath(adapter: string): string {
  return `\0tapvpn-client/${adapter}`;
}

/** Takes the adapter's lock, or throws AdapterLockedError naming the client that holds it. */
export async function lockAdapter(adapter: string, clientName: string): Promise<AdapterLock> {
  const holder: Holder = { pid: process.pid, name: clientName };
  const server = createServer((socket) => socket.end(JSON.stringify(holder)));
  server.on('error', () => undefined); // after listening: a peer's connection error concerns that peer only
  try {
    await listen(server, lockPath(adapter));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const running = await readHolder(adapter);
    const who = running ? `PID ${running.pid}, client "${running.name}"` : 'its PID could not be read';
    const fix = running ? `stop it first (kill ${running.pid})` : 'stop it first';
    throw new AdapterLockedError(`another tapvpn client already runs adapter "${adapter}" (${who}): ${fix}, or give this one another adapter.name`);
  }
  server.unref(); // the lock never keeps the process alive by itself
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function readHolder(adapter: string): Promise<Holder | undefined> {
  return new Promise((resolve) => {
    const socket = connect(lockPath(adapter));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), HOLDER_READ_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Holder;
        resolve(Number.isInteger(parsed.pid) && typeof parsed.name === 'string' ? parsed : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}
