/**
 * The kernel's smoothed RTT estimate of a connected TCP socket (TCP_INFO,
 * src/io/native/tcp-info.c, built by `npm install` in a checkout or
 * prebuilt in the package, loaded with node-gyp-build), for tunnel status. Read on demand (a
 * status request, a scrape), never per packet. Undefined when the addon is
 * not built, the socket has no descriptor (not a kernel TCP socket) or is
 * closed: status then shows no RTT rather than a wrong one.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';

interface TcpInfoBinding {
  tcpRtt(fd: number): { rttUs: number; rttVarUs: number } | undefined;
}

const MAX_PARENT_DEPTH = 6;

/** node-gyp-build from src/io/native/ of the package root (source or dist/ layout), as the other addons. */
function load(): TcpInfoBinding | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < MAX_PARENT_DEPTH; depth++, dir = dirname(dir)) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    try {
      return (createRequire(import.meta.url)('node-gyp-build') as (dir: string) => unknown)(join(dir, 'src', 'io', 'native')) as TcpInfoBinding;
    } catch {
      return undefined; // not built for this platform: no RTT in status
    }
  }
  return undefined;
}

const binding = load();

/** The descriptor libuv holds for a TCP socket (Linux), if any. */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Smoothed RTT in milliseconds, or undefined when unknown. */
export function tcpRttMs(socket: Socket | undefined): number | undefined {
  if (!binding || !socket || socket.destroyed) return undefined;
  const fd = fdOf(socket);
  if (fd === undefined) return undefined;
  const info = binding.tcpRtt(fd);
  return info && info.rttUs > 0 ? info.rttUs / 1000 : undefined;
}
