/**
 * Structured logging: pino, human-readable (pino-pretty) on a terminal and
 * JSON otherwise. Key material is redacted by path as a second line of
 * defence; the first is never passing it to a logger.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = ['privateKey', 'private_key', '*.privateKey', '*.private_key', 'key', '*.key', 'keys', '*.keys'];

export function createLogger(component: string, level = process.env.TAPVPN_LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.stdout.isTTY && !process.env.TAPVPN_LOG_JSON;
  return pino({
    name: component,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}
