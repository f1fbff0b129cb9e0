/**
 * A ServerCore and ClientCores in one process over memory streams and
 * memory adapter pairs (the far ends play the hosts), for the integration
 * tests of session lifetime: re-handshakes, take-overs, revocation.
 */
import { pino } from 'pino';
import { createMemoryPair } from '../../adapter/memory-pair.js';
import { ClientCore, type ClientCoreOptions } from '../../src/client/core.js';
import { serverConfigSchema, type ServerConfig } from '../../src/config/schema.js';
import { realCrypto, TimestampGuard } from '../../src/crypto/index.js';
import { encodeKey, generateKeyPair, type StaticKeyPair } from '../../src/crypto/keys.js';
import type { ReplayGuard } from '../../src/crypto/port.js';
import { MemoryListener, type MemoryStreamOptions } from '../../src/io/memory-stream.js';
import type { InitiatorOptions } from '../../src/protocol/machines/initiator.js';
import { ServerCore, type ServerCoreOptions } from '../../src/server/core.js';
import { LeaseStore } from '../../src/server/leases.js';
import { leasePoolOf } from '../../src/server/policy.js';
import { MemoryHost } from './memory-host.js';

export const log = pino({ level: 'silent' });
export const LAN_HOST = '192.168.60.10';
const SERVER_HOST_MAC = '02:00:00:00:00:53';

export interface RunningClient {
  core: ClientCore;
  /** How many times the client opened its adapter. */
  adapterOpens: number;
  host(): MemoryHost;
}

export interface Harness {
  server: ServerCore;
  serverHost: MemoryHost;
  listener: MemoryListener;
  serverKeys: StaticKeyPair;
  keys: Record<string, StaticKeyPair>;
  /** The server config with these clients (name → overrides of the entry). */
  configWith(clients: Record<string, { enabled?: boolean; public_key?: string }>): ServerConfig;
  /** `machine`: overrides of the initiator's options (lifetime, timing ...). */
  startClient(name: string, source: string, options?: Partial<Omit<ClientCoreOptions, 'machine'>> & { machine?: Partial<InitiatorOptions> }): RunningClient;
  stop(): Promise<void>;
}

export async function startHarness(
  names: string[],
  options: { replayGuard?: ReplayGuard; listener?: MemoryStreamOptions; server?: Partial<ServerCoreOptions> } = {},
): Promise<Harness> {
  const serverKeys = generateKeyPair();
  const keys = Object.fromEntries(names.map((n) => [n, generateKeyPair()]));
  const configWith = (clients: Record<string, { enabled?: boolean; public_key?: string }>): ServerConfig =>
    serverConfigSchema.parse({
      private_key_file: '/unused/server.key',
      tunnel: { network: '10.97.0.0/24', routes: ['192.168.60.0/24'] },
      clients: Object.entries(clients).map(([name, entry]) => ({ name, public_key: encodeKey(keys[name]!.publicKey), ...entry })),
    });
  const config = configWith(Object.fromEntries(names.map((n) => [n, {}])));
  const [device, hostSide] = createMemoryPair({ mtu: config.adapter.mtu });
  const serverHost = new MemoryHost(hostSide, SERVER_HOST_MAC);
  const listener = new MemoryListener(options.listener);
  const leases = await LeaseStore.open(leasePoolOf(config), undefined);
  const server = new ServerCore({
    config, local: serverKeys, crypto: realCrypto, replayGuard: options.replayGuard ?? new TimestampGuard(), leases, device, hostMac: SERVER_HOST_MAC, connections: listener, log, autoTick: false,
    ...options.server,
  });
  const clients: RunningClient[] = [];
  const startClient: Harness['startClient'] = (name, source, { machine, ...extra } = {}) => {
    let host: MemoryHost | undefined;
    const client: RunningClient = { core: undefined as unknown as ClientCore, adapterOpens: 0, host: () => host! };
    client.core = new ClientCore({
      machine: { crypto: realCrypto, local: keys[name]!, serverPublicKey: serverKeys.publicKey, name, path: ['vpn.test:5555'], reconnect: { minDelayMs: 50, maxDelayMs: 200 }, ...machine },
      openDevice: async (lease) => {
        client.adapterOpens++;
        const [clientDevice, hostDevice] = createMemoryPair({ mtu: lease.mtu });
        host = new MemoryHost(hostDevice);
        return { device: clientDevice, start: async () => undefined, close: () => clientDevice.close() };
      },
      dial: listener.dialFrom(source),
      log,
      autoTick: false,
      ...extra,
    });
    clients.push(client);
    return client;
  };
  return {
    server, serverHost, listener, serverKeys, keys, configWith, startClient,
    async stop() {
      await Promise.all(clients.map((c) => c.core.stop()));
      await server.stop();
    },
  };
}
