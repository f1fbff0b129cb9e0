/**
 * `tapvpn server|client|relay --config FILE` and `tapvpn demo`: load and
 * validate the config, create the logger, then hand over to the run module
 * (src/server/run.ts, src/client/run.ts, src/relay/run.ts, src/demo/run.ts),
 * loaded by dynamic import so that `genkey` or `check-config` never load
 * the data path, and a build without one of them says so plainly.
 *
 * A run module exports either `startX(config, log)` returning a handle with
 * `stop()` (and `reload(config)` for the server, `done` for the client), or
 * `runX(config, log): Promise<void>` that returns when it has stopped.
 */
import { loadClientConfig, loadRelayConfig, loadServerConfig } from '../../config/load.js';
import { createLogger, type Logger } from '../../log.js';
import { NotAvailableError } from '../errors.js';
import type { CliIo } from '../io.js';

interface Handle {
  stop(): Promise<void>;
  reload?(config: unknown): void;
  done?: Promise<void>;
}
type Start = (config: unknown, log: Logger) => Promise<Handle>;
type Run = (config: unknown, log: Logger) => Promise<void | number>;

/** Loads a run module (path relative to this file); NotAvailableError when it is not in this build. */
export async function loadModule(io: CliIo, module: string, what: string): Promise<Record<string, unknown>> {
  try {
    return await io.importModule(module);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const stem = module.replace(/^(\.\.\/)+/, '').replace(/\.js$/, '');
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && (error as Error).message.includes(stem)) {
      throw new NotAvailableError(`the ${what} is not available in this build (${stem} is missing); rebuild with \`npm run build\` or use a full checkout`);
    }
    throw error;
  }
}

/** Finds `startX` (preferred) or `runX` in a run module. */
function pickRunner(exports: Record<string, unknown>, what: string, start: string, run: string): { start?: Start; run?: Run } {
  if (typeof exports[start] === 'function') return { start: exports[start] as Start };
  if (typeof exports[run] === 'function') return { run: exports[run] as Run };
  throw new NotAvailableError(`the ${what} is not available in this build (its run module exports neither ${start} nor ${run})`);
}

/**
 * Starts a daemon and resolves with its exit code: 0 after a stop on
 * SIGINT/SIGTERM, 1 when it ends on its own (the client refused for good)
 * or its stop fails. A second SIGINT/SIGTERM exits at once with 1.
 */
async function supervise(io: CliIo, log: Logger, handle: Handle, onReload?: () => Promise<void>): Promise<number> {
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
  const config = kind === 'server' ? await loadServerConfig(file) : kind === 'client' ? await loadClientConfig(file) : await loadRelayConfig(file);
  const cap = `${kind[0]!.toUpperCase()}${kind.slice(1)}`;
  const what = kind === 'server' ? 'tunnel server' : kind;
  const runner = pickRunner(await loadModule(io, `../../${kind}/run.js`, what), what, `start${cap}`, `run${cap}`);
  const level = 'log_level' in config ? (config.log_level as string | undefined) : undefined;
  const log = createLogger(`tapvpn-${kind}`, level ? { level } : {});
  if (runner.run) {
    const result = await runner.run(config, log);
    return typeof result === 'number' ? result : 0;
  }
  const handle = await runner.start!(config, log);
  const reload =
    kind === 'server' && handle.reload
      ? async (): Promise<void> => {
          try {
            handle.reload!(await loadServerConfig(file));
          } catch (error) {
            log.error({ error: (error as Error).message }, 'reload refused: keeping the current clients');
          }
        }
      : undefined;
  return supervise(io, log, handle, reload);
}

export async function runDemoCommand(io: CliIo): Promise<number> {
  const exports = await loadModule(io, '../../demo/run.js', 'demo');
  if (typeof exports.runDemo !== 'function') throw new NotAvailableError('the demo is not available in this build (demo/run exports no runDemo)');
  const result: unknown = await (exports.runDemo as () => Promise<unknown>)();
  return typeof result === 'number' ? result : 0;
}
