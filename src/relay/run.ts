/**
 * The relay app (`tapvpn relay --config relay.toml`): a TCP listener that
 * runs one RelayConnection per accepted connection, enforcing the
 * connection limits (total and per source address) before anything is read,
 * probing server groups, ticking every connection once a second for the
 * setup and idle timeouts. The relay holds no keys of any tunnel: it reads
 * only RELAY frames and frame headers.
 *
 * Start-up, as the server's (src/server/run.ts): bind the port without
 * listening (a port below 1024 needs privileges; nothing can connect yet),
 * the control socket and management listener; then, with `user` set, drop
 * to that user with no capabilities (src/util/privileges.ts); only then read
 * the status key and listen — no connection is accepted while privileged.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { bindTcp, closeBound } from '../io/tcp.js';
import { dropPrivileges } from '../util/privileges.js';
import type { RelayConfig } from '../config/relay-schema.js';
import { peerLabel, unmappedAddress } from '../io/byte-stream.js';
import { readPrivateKeyFile } from '../io/key-file.js';
import type { Logger } from '../log.js';
import { CloseCode } from '../protocol/frames/close-codes.js';
import { SourceBudget } from '../engine/source-budget.js';
import { refusalLineBudget } from '../engine/line-budget.js';
import { RelayConnection } from './connection.js';
import { RelayCounters, type RelayStatus } from './counters.js';
import { dialNextHop } from './dial.js';
import { ServerGroups } from './groups.js';
import { startDaemonOps, type DaemonOps } from '../ops/daemon.js';
import type { RelaySnapshot } from '../ops/snapshot.js';
import { packageVersion } from '../version.js';

const TICK_INTERVAL_MS = 1000;
const SHUTDOWN_GRACE_MS = 2000;
/** Margin over the connect attempts for the whole setup (RELAY read, dial, failover). */
const SETUP_MARGIN_MS = 5000;
/** Per-source connection budgets kept at most (least recently used forgotten first, as at the server). */
const MAX_BUDGET_SOURCES = 8192;

export interface RelayHandle {
  readonly port: number;
  status(): RelayStatus & { groups: ReturnType<ServerGroups['snapshot']> };
  stop(): Promise<void>;
}

export async function startRelay(config: RelayConfig, log: Logger): Promise<RelayHandle> {
  const bound = bindTcp(config.listen.address, config.listen.port);
  const counters = new RelayCounters();
  const connections = new Set<RelayConnection>();
  const perSource = new Map<string, number>();
  const refusalLines = refusalLineBudget();
  // Every client behind this relay shares the relay's handshake budget at the server: without one
  // per source here, one peer opening connections fast would spend it for all of them.
  const newConnections = new SourceBudget({ burst: config.limits.per_source_burst, rate: config.limits.per_source_rate, maxSources: MAX_BUDGET_SOURCES });
  const inFlight = new Set<string>();
  const names = [config.name, ...config.aliases];
  const connectTimeoutMs = config.limits.connect_timeout * 1000;
  const largestGroup = Math.max(1, ...config.groups.map((g) => g.servers.length));
  const limits = {
    maxPathLength: config.limits.max_path_length,
    maxRelayFrameBytes: config.limits.max_relay_frame_bytes,
    idleTimeoutMs: config.limits.idle_timeout * 1000,
    setupTimeoutMs: connectTimeoutMs * largestGroup + SETUP_MARGIN_MS,
  };
  let groups: ServerGroups | undefined;
  const status = (): ReturnType<RelayHandle['status']> => ({ ...counters.snapshot(), groups: groups?.snapshot() ?? {} });
  const startedAtMs = Date.now();
  let listening = false;
  const snapshot = (): RelaySnapshot => ({ role: 'relay', name: config.name, version: packageVersion(), startedAtMs, nowMs: Date.now(), listener: { address: config.listen.address, port: bound.port, listening }, ...status() });

  function accept(socket: Socket, groups: ServerGroups): void {
    const source = unmappedAddress(socket.remoteAddress ?? 'unknown'); // an IPv4 peer of a dual-stack listener is the IPv4 source it is
    counters.connectionsAccepted++;
    counters.connectionsActive++;
    perSource.set(source, (perSource.get(source) ?? 0) + 1);
    const connection = new RelayConnection(socket, {
      names,
      limits,
      counters,
      log,
      refusalLines,
      inFlight,
      dialNext: (name) => dialNextHop(name, groups, connectTimeoutMs, log),
      onDone: () => {
        connections.delete(connection);
        counters.connectionsActive--;
        const left = (perSource.get(source) ?? 1) - 1;
        if (left > 0) perSource.set(source, left);
        else perSource.delete(source);
      },
    });
    connections.add(connection);
    // Checked after counting this one, so the limit is the number allowed at once.
    if (connections.size > config.limits.max_connections) {
      connection.refuse('too-many-connections', CloseCode.ROUTING_FAILURE, `relay at capacity (max_connections ${config.limits.max_connections})`);
    } else if ((perSource.get(source) ?? 0) > config.limits.max_connections_per_source) {
      connection.refuse('too-many-from-source', CloseCode.ROUTING_FAILURE, `too many connections from ${source} (max_connections_per_source ${config.limits.max_connections_per_source})`);
    } else if (!newConnections.take(source, Date.now())) {
      // BUSY: the client backs off and retries, and does not count it against the server.
      connection.refuse('too-many-handshakes', CloseCode.BUSY, `${source} opens connections faster than per_source_rate ${config.limits.per_source_rate}/s (burst ${config.limits.per_source_burst})`);
    }
  }

  let ops: DaemonOps | undefined;
  let server: Server | undefined;
  try {
    ops = await startDaemonOps('relay', config.name, config, snapshot, log);
    if (config.user) {
      // All that needs root is done: the port is bound (nothing listens yet), the control socket made.
      const dropped = dropPrivileges(config.user);
      log.info({ user: config.user, ...dropped }, 'dropped privileges: no capabilities left');
    }
    const key = config.status.key_file ? await readPrivateKeyFile(config.status.key_file) : undefined;
    const liveGroups = new ServerGroups(config, key, log);
    groups = liveGroups;
    const listener = createServer((socket) => accept(socket, liveGroups));
    server = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ fd: bound.fd }, () => resolve());
    });
  } catch (error) {
    if (server?.listening) server.close();
    else closeBound(bound);
    await ops?.close();
    throw error;
  }
  listening = true;
  const running = { groups, ops, server };
  const port = bound.port;
  running.server.on('error', (error) => log.error({ error: error.message }, 'listener error'));
  const ticker = setInterval(() => {
    for (const connection of connections) connection.tick();
  }, TICK_INTERVAL_MS);
  running.groups.startProbing(config.status.probe_interval * 1000);
  log.info({ relay: config.name, listen: peerLabel({ address: config.listen.address, port }), groups: config.groups.map((g) => g.name) }, 'relay ready');

  return {
    port,
    status,
    async stop() {
      clearInterval(ticker);
      running.groups.stop();
      running.server.close();
      listening = false;
      await running.ops.close();
      for (const connection of [...connections]) connection.shutdown();
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const connection of connections) connection.destroy();
      log.info({ status: status() }, 'relay stopped');
    },
  };
}
