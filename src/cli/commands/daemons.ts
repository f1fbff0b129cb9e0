/**
 * `tapvpn server|client|relay --config FILE` and `tapvpn demo`: load and
 * validate the config, create the logger, then start the daemon through its
 * entry in the typed run-module table (src/cli/run-modules.ts: server, client
 * and relay run modules, and the demo's), supervise it on signals, and turn
 * its end into an exit code.
 */
import { loadClientConfig, loadRelayConfig, loadServerConfig } from '../../config/load.js';
import { createLogger, type Logger } from '../../log.js';
import { configReloader, startConfigWatch } from '../../server/config-reload.js';
import { NotAvailableError } from '../errors.js';
import type { CliIo } from '../io.js';
import type { DaemonHandle, RunModules } from '../run-modules.js';

const WHAT: Record<keyof RunModules, string> = { server: 'tunnel server', client: 'client', relay: 'relay', demo: 'demo' };

/** Imports a run module; a module missing from this installation becomes NotAvailableError. */
async function load<K extends keyof RunModules>(io: CliIo, kind: K): Promise<Awaited<ReturnType<RunModules[K]>>> {
  try {
    return (await io.runModules[kind]()) as Awaited<ReturnType<RunModules[K]>>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    const detail = (error as Error).message.split('\n')[0];
    throw new NotAvailableError(`the ${WHAT[kind]} is not available in this installation (${detail}); reinstall tapvpn, or run npm install && npm run build in a checkout`);
  }
}

/**
 * Starts a daemon and resolves with its exit code: 0 after a stop on
 * SIGINT/SIGTERM, 1 when it ends on its own (the client refused for good)
 * or its stop fails. A second SIGINT/SIGTERM exits at once with 1.
 */
async function supervise(io: CliIo, log: Logger, handle: DaemonHandle & { done?: Promise<void> }, onReload?: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return resolve(1); // a second signal: stop waiting
      stopping = true;
      log.info({ signal }, 'stopping');
      handle.stop().then(
        () => resolve(0),
        (error: Error) => {
          log.error({ error: error.message }, 'stop failed');
          resolve(1);
        },
      );
    };
    io.onSignal('SIGINT', () => stop('SIGINT'));
    io.onSignal('SIGTERM', () => stop('SIGTERM'));
    if (onReload) io.onSignal('SIGHUP', () => void onReload());
    handle.done?.then(() => {
      if (!stopping) resolve(1);
    });
  });
}


export async function runDaemon(io: CliIo, kind: 'server' | 'client' | 'relay', file: string): Promise<number> {
  switch (kind) {
    case 'server': {
      const config = await loadServerConfig(file);
      const { startServer } = await load(io, 'server');
      const log = createLogger('tapvpn-server', config.log_level ? { level: config.log_level } : {});
      const handle = await startServer(config, log);
      // SIGHUP and a change of the file take the same path (src/server/config-reload.ts); a bad file keeps the current configuration.
      const watcher = await startConfigWatch(file, config, log, handle);
      const reload = configReloader(file, log, handle);
      const stop = async (): Promise<void> => {
        watcher?.close();
        await handle.stop();
      };
      return supervise(io, log, { stop }, () => reload('SIGHUP'));
    }
    case 'client': {
      const config = await loadClientConfig(file);
      const { startClient } = await load(io, 'client');
      const log = createLogger('tapvpn-client', config.log_level ? { level: config.log_level } : {});
      return supervise(io, log, await startClient(config, log));
    }
    case 'relay': {
      const config = await loadRelayConfig(file);
      const { startRelay } = await load(io, 'relay');
      const log = createLogger('tapvpn-relay');
      return supervise(io, log, await startRelay(config, log));
    }
  }
}

export async function runDemoCommand(io: CliIo): Promise<number> {
  const { runDemo } = await load(io, 'demo');
  return runDemo();
}
