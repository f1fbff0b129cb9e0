/**
 * The `tapvpn` command line as a function: `runCli(argv, io)` parses the
 * arguments (node's util.parseArgs, strict: an unknown option is a usage
 * error), dispatches, and returns the exit status: 0 ok, 1 runtime failure,
 * 2 usage or configuration error. It never calls process.exit, so tests
 * drive it directly; src/cli/main.ts is the process entry.
 */
import { parseArgs } from 'node:util';
import { checkConfig } from './commands/check-config.js';
import { runDaemon, runDemoCommand } from './commands/daemons.js';
import { genkey, pubkey } from './commands/keys.js';
import { status } from './commands/status.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, formatError, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { packageVersion } from '../version.js';
import { COMMAND_USAGE, isCommand, MAIN_USAGE, type Command } from './usage.js';

const COMMON = { help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } as const;
const OPTIONS = {
  genkey: { ...COMMON, out: { type: 'string', short: 'o' } },
  pubkey: { ...COMMON, in: { type: 'string', short: 'i' } },
  'check-config': { ...COMMON, json: { type: 'boolean' } },
  server: { ...COMMON, config: { type: 'string', short: 'c' } },
  client: { ...COMMON, config: { type: 'string', short: 'c' } },
  relay: { ...COMMON, config: { type: 'string', short: 'c' } },
  demo: { ...COMMON },
  status: { ...COMMON, json: { type: 'boolean' }, socket: { type: 'string', short: 's' } },
} as const;
/** Positional arguments each command takes. */
const POSITIONALS: Record<Command, number> = { genkey: 0, pubkey: 0, 'check-config': 2, server: 0, client: 0, relay: 0, demo: 0, status: 0 };

export { packageVersion };

/** parseArgs with its errors reworded as usage errors that name the command. */
function parseOptions(command: Command, args: string[]): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (error) {
    const detail = (error as Error).message.split('. ')[0];
    throw new UsageError(`${command}: ${detail} (see tapvpn ${command} --help)`);
  }
}

async function dispatch(io: CliIo, command: Command, values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  const config = typeof values.config === 'string' ? values.config : undefined;
  switch (command) {
    case 'genkey':
      return genkey(io, values.out as string | undefined);
    case 'pubkey':
      return pubkey(io, values.in as string | undefined);
    case 'check-config':
      return checkConfig(io, positionals[0], positionals[1], values.json === true);
    case 'server':
    case 'client':
    case 'relay':
      if (!config) throw new UsageError(`${command} needs --config FILE\n\n${COMMAND_USAGE[command]}`);
      return runDaemon(io, command, config);
    case 'demo':
      return runDemoCommand(io);
    case 'status':
      return status(io, values.socket as string | undefined, values.json === true);
  }
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const debug = argv.includes('--debug') || Boolean(io.env.TAPVPN_DEBUG && io.env.TAPVPN_DEBUG !== '0');
  try {
    const first = argv[0];
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      io.out(MAIN_USAGE);
      return first === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (first === '--version' || first === '-V') {
      io.out(packageVersion());
      return EXIT_OK;
    }
    if (!isCommand(first)) throw new UsageError(`unknown command "${first}" (commands: genkey, pubkey, check-config, server, client, relay, status, demo; see tapvpn --help)`);
    const { values, positionals } = parseOptions(first, argv.slice(1));
    if (values.help) {
      io.out(COMMAND_USAGE[first]);
      return EXIT_OK;
    }
    if (values.debug) io.env.TAPVPN_DEBUG = '1'; // also raises the log level (src/log.ts)
    if (positionals.length > POSITIONALS[first]) throw new UsageError(`${first}: unexpected argument "${positionals[POSITIONALS[first]]}"\n\n${COMMAND_USAGE[first]}`);
    return await dispatch(io, first, values as Record<string, string | boolean | undefined>, positionals);
  } catch (error) {
    io.err(formatError(error, debug));
    return exitCodeFor(error);
  }
}
