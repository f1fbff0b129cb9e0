/**
 * The demo's (and the end-to-end tests') little internet, built from network
 * namespaces and veth pairs:
 *
 *   <p>client<i> 198.18.<i>.2 ──veth── 198.18.<i>.1 <p>server 172.31.99.1 ──veth── 172.31.99.10 <p>lan
 *
 * The server namespace forwards between its tunnel adapter and the LAN; the LAN
 * host routes the tunnel network back through the server ("routes on the LAN").
 * Everything created is recorded so `destroy()` removes it, also after a
 * partial build. Names carry a caller-chosen prefix so two runs never collide.
 */
import { run } from '../io/command.js';

export const TUNNEL_NETWORK = '10.77.0.0';
export const TUNNEL_PREFIX_LENGTH = 24;
export const TUNNEL_GATEWAY = '10.77.0.1';
export const LAN_NETWORK = '172.31.99.0';
export const LAN_PREFIX_LENGTH = 24;
export const LAN_SERVER_ADDRESS = '172.31.99.1';
export const LAN_HOST_ADDRESS = '172.31.99.10';
/** IPv6 inside the tunnel ([tunnel] network6) and on the LAN, routed by the server like IPv4. */
export const TUNNEL_NETWORK6 = 'fd74:7670:6e00::/48';
export const LAN_NETWORK6 = 'fd74:7670:99::/64';
export const LAN_SERVER_ADDRESS6 = 'fd74:7670:99::1';
export const LAN_HOST_ADDRESS6 = 'fd74:7670:99::10';

export interface Topology {
  prefix: string;
  server: string;
  lan: string;
  clients: string[];
  /** The server's underlay address as seen from client i. */
  serverAddressFor(clientIndex: number): string;
  destroy(): Promise<void>;
}

export const MAX_CLIENTS = 8;
/** The server's address on client 0's link, reachable from every client namespace. */
export const SERVER_CANONICAL_ADDRESS = '198.18.0.1';

export async function buildTopology(prefix: string, clientCount: number): Promise<Topology> {
  if (clientCount < 1 || clientCount > MAX_CLIENTS) throw new Error(`clientCount must be 1..${MAX_CLIENTS}`);
  const created: string[] = [];
  const topology: Topology = {
    prefix,
    server: `${prefix}server`,
    lan: `${prefix}lan`,
    clients: Array.from({ length: clientCount }, (_, i) => `${prefix}client${i}`),
    serverAddressFor: (i) => `198.18.${i}.1`,
    destroy: async () => {
      for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns], { allowFailure: true });
    },
  };
  try {
    for (const ns of [topology.server, topology.lan, ...topology.clients]) {
      await run('ip', ['netns', 'add', ns]);
      created.push(ns);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run('ip', ['netns', 'exec', topology.server, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await joinNamespaces(topology.server, `${LAN_SERVER_ADDRESS}/24`, topology.lan, `${LAN_HOST_ADDRESS}/24`, 'vl');
    await run('ip', ['-n', topology.lan, 'route', 'add', 'default', 'via', LAN_SERVER_ADDRESS]);
    // IPv6 on the LAN (namespace sysctls only): the server forwards, the LAN host routes back through it.
    await run('ip', ['netns', 'exec', topology.server, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    await run('ip', ['-n', topology.server, 'addr', 'add', `${LAN_SERVER_ADDRESS6}/64`, 'dev', 'vla', 'nodad']);
    await run('ip', ['-n', topology.lan, 'addr', 'add', `${LAN_HOST_ADDRESS6}/64`, 'dev', 'vlb', 'nodad']);
    await run('ip', ['-n', topology.lan, '-6', 'route', 'add', 'default', 'via', LAN_SERVER_ADDRESS6]);
    for (const [i, ns] of topology.clients.entries()) {
      await joinNamespaces(topology.server, `198.18.${i}.1/24`, ns, `198.18.${i}.2/24`, `vc${i}`);
      // Every client can dial the server by one name (198.18.0.1), but has no route to the LAN except the tunnel.
      if (i > 0) await run('ip', ['-n', ns, 'route', 'add', `${SERVER_CANONICAL_ADDRESS}/32`, 'via', `198.18.${i}.1`]);
    }
    return topology;
  } catch (error) {
    await topology.destroy();
    throw error;
  }
}

/** A veth pair between two namespaces, each end addressed and up. Ends are named <tag>a/<tag>b. */
async function joinNamespaces(nsA: string, addressA: string, nsB: string, addressB: string, tag: string): Promise<void> {
  const endA = `${tag}a`;
  const endB = `${tag}b`;
  await run('ip', ['-n', nsA, 'link', 'add', endA, 'type', 'veth', 'peer', 'name', endB, 'netns', nsB]);
  await run('ip', ['-n', nsA, 'addr', 'add', addressA, 'dev', endA]);
  await run('ip', ['-n', nsB, 'addr', 'add', addressB, 'dev', endB]);
  await run('ip', ['-n', nsA, 'link', 'set', endA, 'up']);
  await run('ip', ['-n', nsB, 'link', 'set', endB, 'up']);
}
