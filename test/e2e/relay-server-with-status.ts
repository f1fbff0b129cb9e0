/**
 * Test launcher for the relay e2e tests: a tunnel server (startServer) plus
 * its status endpoint (src/server/status.ts), until src/server/run.ts hooks
 * the endpoint in itself. The active-tunnel count is taken from the server's
 * own "client authorized" / "tunnel closed" log events — the same events the
 * server's tunnel table changes on — because ServerHandle does not expose
 * the table yet. Stops on SIGTERM/SIGINT like `tapvpn server`.
 * Usage: relay-server-with-status.ts <server.toml> <statusPort> <status.key>
 */
import { pino } from 'pino';
import { loadConfigFile } from '../../src/config/load.js';
import { serverConfigSchema } from '../../src/config/schema.js';
import { readPrivateKeyFile } from '../../src/keys/keyfile.js';
import { startServer } from '../../src/server/run.js';
import { startStatusListener } from '../../src/server/status.js';

const [configFile, statusPort, keyFile] = process.argv.slice(2);
let activeTunnels = 0;
const log = pino({
  name: 'tapvpn-server',
  hooks: {
    logMethod(args, method) {
      const [fields, message] = args as unknown as [Record<string, unknown>, string];
      if (message === 'client authorized') activeTunnels++;
      if (message === 'tunnel closed' && fields.client !== undefined) activeTunnels--;
      return method.apply(this, args);
    },
  },
});

const config = await loadConfigFile(serverConfigSchema, configFile!);
const server = await startServer(config, log);
const status = await startStatusListener({ address: '0.0.0.0', port: Number(statusPort), key: await readPrivateKeyFile(keyFile!) }, () => ({ activeTunnels }), log);
const stop = (): void => {
  void Promise.all([status.close(), server.stop()]).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
