/**
 * Applying server.toml again while the server runs: on SIGHUP, and (with
 * `reload.watch`, the default) whenever the file's content changes. Both
 * take the same path: load and validate the whole file, then hand it to the
 * running server, which closes the tunnels of clients no longer allowed. A
 * file that does not load changes nothing: the current configuration stays
 * and the log says what is wrong (the loader's message names the key).
 */
import { loadServerConfig } from '../config/load.js';
import type { ServerConfig } from '../config/schema.js';
import { watchConfigFile, type ConfigWatcher } from '../io/config-watch.js';
import type { Logger } from '../log.js';

export interface Reloadable {
  reload(config: ServerConfig): void;
}

/** Loads `file` and applies it; a bad file is logged and refused. */
export function configReloader(file: string, log: Logger, server: Reloadable): (trigger: 'SIGHUP' | 'file changed') => Promise<void> {
  return async (trigger) => {
    let config: ServerConfig;
    try {
      config = await loadServerConfig(file);
    } catch (error) {
      log.error({ file, trigger, error: (error as Error).message }, 'reload refused: the config file does not load; keeping the current configuration');
      return;
    }
    log.info({ file, trigger }, 'reloading the configuration');
    server.reload(config);
  };
}

/** Starts watching `file` when the config asks for it (reload.watch). */
export async function startConfigWatch(file: string, config: ServerConfig, log: Logger, server: Reloadable): Promise<ConfigWatcher | undefined> {
  if (!config.reload.watch) return undefined;
  const reload = configReloader(file, log, server);
  const pollIntervalMs = config.reload.poll_interval * 1000;
  const watcher = await watchConfigFile(file, {
    pollIntervalMs,
    onChange: () => reload('file changed'),
    onWatchError: (error) => log.warn({ file, error: error.message, pollIntervalMs }, 'cannot watch the config file\'s folder: polling it only'),
  });
  log.info({ file, pollIntervalMs }, 'watching the config file: changes apply as on SIGHUP');
  return watcher;
}
