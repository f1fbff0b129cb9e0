/**
 * Applying server.toml again while the server runs: on SIGHUP, and (with
 * `reload.watch`, the default) whenever the file's content changes. Both
 * take the same path: load and validate the whole file, then hand it to the
 * running server, which closes the tunnels of clients no longer allowed. A
 * file that does not load changes nothing: the current configuration stays
 * and the log says what is wrong (the loader's message names the key).
 * Keys only a restart applies (src/server/reload-plan.ts) are not applied:
 * the log names each one that changed, and the live part (the clients and
 * the pushed routes) is applied all the same, so that a revocation never
 * waits on an unrelated edit.
 */
import { loadServerConfig } from '../config/load.js';
import type { ServerConfig } from '../config/schema.js';
import { watchConfigFile, type ConfigWatcher } from '../io/config-watch.js';
import type { Logger } from '../log.js';
import { describeChanges, planReload } from './reload-plan.js';

export interface Reloadable {
  /** The configuration in force: the start one with the reloads applied. */
  readonly config: ServerConfig;
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
    const plan = planReload(server.config, config);
    const restartOnly = plan.restartOnly.map((c) => c.key);
    if (!plan.ok) {
      log.error({ file, trigger, restartOnly, error: plan.problem }, `reload refused: restart the server to apply: ${describeChanges(plan.restartOnly)}; the clients part alone does not fit the running settings (${plan.problem}); keeping the current configuration`);
      return;
    }
    if (restartOnly.length > 0) {
      log.error({ file, trigger, restartOnly }, `restart the server to apply: ${describeChanges(plan.restartOnly)}; applying the clients and pushed routes only, the rest keeps its running values`);
    }
    log.info({ file, trigger }, 'reloading the configuration');
    server.reload(plan.apply);
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
