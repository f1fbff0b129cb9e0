/**
 * Structured logging: pino, human-readable (pino-pretty, in this thread and
 * synchronous, so nothing is lost when the process exits on a signal) when
 * stdout is a terminal, one JSON object per line otherwise (journald, files).
 *
 * Level: TAPVPN_LOG_LEVEL, else the config's log_level, else "info";
 * TAPVPN_DEBUG=1 means "debug". The environment wins so a deployed service
 * can be debugged without editing its config.
 *
 * Keys: the first line of defence is never handing key material to a
 * logger; the second is redaction by path below.
 *
 * Convention: one root logger per process, named after the command
 * (`tapvpn-server`), and one child per component with `childLogger(log,
 * 'leases')`, which adds {"component": "leases"} to every line.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

/** pino-pretty, loaded on first use: a daemon logging JSON to journald never carries it. */
function prettyStream(options: PrettyOptions): PrettyStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (options: PrettyOptions) => PrettyStream;
  return pretty(options);
}

export type { Logger };

export const REDACT_PATHS: readonly string[] = [
  'privateKey', '*.privateKey', 'private_key', '*.private_key',
  'secretKey', '*.secretKey', 'sendKey', '*.sendKey', 'receiveKey', '*.receiveKey',
  'psk', '*.psk', 'key', '*.key', 'keys', '*.keys',
];

export interface LoggerOptions {
  /** From the config's log_level; TAPVPN_LOG_LEVEL overrides it. */
  level?: string;
  /** Default: TAPVPN_LOG_PRETTY=1, or stdout is a TTY and TAPVPN_LOG_JSON is unset. */
  pretty?: boolean;
  /** Default: stdout. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

/** The level in effect: environment, then config, then info. */
export function resolveLevel(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.TAPVPN_LOG_LEVEL) return env.TAPVPN_LOG_LEVEL;
  if (env.TAPVPN_DEBUG && env.TAPVPN_DEBUG !== '0') return 'debug';
  return configured ?? 'info';
}

export function createLogger(component: string, options: LoggerOptions | string = {}): Logger {
  const opts: LoggerOptions = typeof options === 'string' ? { level: options } : options;
  const usePretty = opts.pretty ?? (process.env.TAPVPN_LOG_PRETTY === '1' || (process.stdout.isTTY === true && !process.env.TAPVPN_LOG_JSON));
  const config = { name: component, level: resolveLevel(opts.level), redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } };
  if (usePretty) {
    const stream = prettyStream({ colorize: opts.destination === undefined, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true, ...(opts.destination ? { destination: opts.destination as NodeJS.WritableStream } : {}) });
    return pino(config, stream);
  }
  return opts.destination ? pino(config, opts.destination) : pino(config);
}

/** A component's logger: every line carries {"component": name}. */
export function childLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
