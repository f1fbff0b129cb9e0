/**
 * The `tapvpn` command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or
 * configuration error. Errors print one line that says what to do; stacks
 * only with --debug or TAPVPN_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { clientConfigSchema, relayConfigSchema, serverConfigSchema } from '../config/schema.js';
import { decodeKey, encodeKey, generatePrivateKey, KeyError, publicKeyOf, writePrivateKeyFile } from '../keys/keyfile.js';
import { createLogger } from '../log.js';

const USAGE: Record<string, string> = {
  main: `tapvpn — a VPN on a pseudo network adapter (TAP with local DHCP and ARP)

Usage: tapvpn <command> [options]

Commands:
  genkey [--out FILE]          print a new private key (or write it to FILE, mode 0600)
  pubkey                       read a private key on stdin, print its public key
  check-config server|client|relay FILE
                               validate a config file and print a summary
  server --config FILE         run the tunnel server
  client --config FILE         run the road-warrior client
  relay --config FILE          run a relay node (forwards tunnels, balances server groups)
  demo                         server, client and LAN host in network namespaces (root)

Options: --help, --version, --debug`,
  genkey: 'Usage: tapvpn genkey [--out FILE]\n  Prints a new base64 X25519 private key, or writes it to FILE created with mode 0600 (never overwrites).',
  pubkey: 'Usage: tapvpn pubkey < private.key\n  Reads a base64 private key on stdin and prints its public key (as `wg pubkey`).',
  'check-config': 'Usage: tapvpn check-config server|client|relay FILE\n  Validates FILE and prints a summary without secrets; exit 2 with every problem listed when invalid.',
  server: 'Usage: tapvpn server --config FILE\n  Runs the tunnel server (root or CAP_NET_ADMIN). SIGHUP reloads the authorized clients; SIGINT/SIGTERM close every tunnel with SHUTTING_DOWN and exit.',
  client: 'Usage: tapvpn client --config FILE\n  Connects to the server, creates the TAP adapter and lets the host take its lease over DHCP. SIGINT/SIGTERM end the tunnel and remove the adapter.',
  relay: 'Usage: tapvpn relay --config FILE\n  Runs a relay: reads the RELAY frame of each connection, connects to the next hop (or a server group member) and forwards both ways. SIGINT/SIGTERM close every relayed tunnel with SHUTTING_DOWN and exit.',
  demo: 'Usage: tapvpn demo\n  Builds namespaces for a client, a server and a LAN host, runs server and client with fresh keys, and shows ping and HTTP crossing the tunnel. Cleans up on exit and Ctrl-C. Needs root.',
};

class UsageError extends Error {}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url).pathname.replace('/dist/', '/'), 'utf8')) as { version: string };
  return pkg.version;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

function onSignals(stop: () => Promise<void>, reload?: () => void): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) process.exit(1); // a second Ctrl-C: give up waiting
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  if (reload) process.on('SIGHUP', reload);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, debug: { type: 'boolean' }, config: { type: 'string', short: 'c' }, out: { type: 'string' } },
  });
  if (values.debug) process.env.TAPVPN_DEBUG = '1';
  const [command, ...rest] = positionals;
  if (values.version) return void console.log(version()), 0;
  if (!command || (values.help && !USAGE[command])) return void console.log(USAGE.main), command ? 2 : 0;
  if (values.help) return void console.log(USAGE[command]), 0;

  switch (command) {
    case 'genkey': {
      const key = generatePrivateKey();
      if (values.out) await writePrivateKeyFile(values.out, key);
      else console.log(encodeKey(key));
      return 0;
    }
    case 'pubkey':
      console.log(encodeKey(publicKeyOf(decodeKey(await readStdin(), 'stdin'))));
      return 0;
    case 'check-config': {
      const [kind, file] = rest;
      if ((kind !== 'server' && kind !== 'client' && kind !== 'relay') || !file) throw new UsageError(USAGE['check-config']);
      const config = await loadConfigFile(kind === 'server' ? serverConfigSchema : kind === 'client' ? clientConfigSchema : relayConfigSchema, file);
      const summary = kind === 'server' ? { ...config, clients: (config as { clients: unknown[] }).clients.length } : config;
      console.log(`${file}: valid ${kind} config\n${JSON.stringify(summary, null, 2)}`);
      return 0;
    }
    case 'server': {
      if (!values.config) throw new UsageError(USAGE.server);
      const file = values.config;
      const config = await loadConfigFile(serverConfigSchema, file);
      const log = createLogger('tapvpn-server', { ...(config.log_level ? { level: config.log_level } : {}) });
      const { startServer } = await import('../server/run.js');
      const server = await startServer(config, log);
      onSignals(server.stop, () => {
        loadConfigFile(serverConfigSchema, file).then(server.reload, (error: Error) => log.error({ error: error.message }, 'reload refused: keeping the current clients'));
      });
      return new Promise(() => undefined); // runs until a signal
    }
    case 'client': {
      if (!values.config) throw new UsageError(USAGE.client);
      const config = await loadConfigFile(clientConfigSchema, values.config);
      const log = createLogger('tapvpn-client', { ...(config.log_level ? { level: config.log_level } : {}) });
      const { startClient } = await import('../client/run.js');
      const client = await startClient(config, log);
      onSignals(client.stop);
      await client.done;
      return 1; // done without a signal: the server refused us for good
    }
    case 'relay': {
      if (!values.config) throw new UsageError(USAGE.relay);
      const { relayConfigSchema } = await import('../config/relay-schema.js');
      const config = await loadConfigFile(relayConfigSchema, values.config);
      const log = createLogger('tapvpn-relay');
      const { startRelay } = await import('../relay/run.js');
      const relay = await startRelay(config, log);
      onSignals(relay.stop);
      return new Promise(() => undefined); // runs until a signal
    }
    case 'demo': {
      const { runDemo } = await import('../demo/run.js');
      return runDemo();
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE.main}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    const usage = error instanceof UsageError || error instanceof ConfigError || error instanceof KeyError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`tapvpn: ${error.message}`);
    if (process.env.TAPVPN_DEBUG) console.error(error.stack);
    process.exit(usage ? 2 : 1);
  },
);
