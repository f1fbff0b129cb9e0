/**
 * CLI errors and exit codes: 0 ok, 1 runtime failure, 2 usage or
 * configuration error. An error prints as one precise line (a config error
 * as one line per problem) prefixed "tapvpn:"; the stack only with --debug
 * or TAPVPN_DEBUG=1.
 */
import { ConfigError } from '../config/load.js';
import { KeyError } from '../crypto/keys.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The run module for a command is not part of this build. */
export class NotAvailableError extends Error {
  override readonly name = 'NotAvailableError';
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof KeyError) return EXIT_USAGE;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return EXIT_USAGE;
  return EXIT_RUNTIME;
}

export function formatError(error: unknown, debug: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return `tapvpn: ${message}${stack}`;
}
