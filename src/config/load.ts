/**
 * Reads a TOML config file and validates it with a zod schema. Every
 * problem names the file, the key path and what was expected versus what
 * arrived, e.g.
 *   server.toml: clients[2].public_key: expected a base64 X25519 public key (...), got "abc"
 * TOML syntax errors give file:line:column. All problems are reported at
 * once, so one edit fixes them all. Unknown keys are errors (a typo must not
 * silently become a default).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { clientConfigSchema, type ClientConfig } from './client.js';
import { relayConfigSchema, type RelayConfig } from './relay-schema.js';
import { serverConfigSchema, type ServerConfig } from './server.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'BAD_CONFIG';
  constructor(
    readonly file: string,
    /** One line per problem, each "key.path: expected ..., got ...". */
    readonly problems: string[],
  ) {
    super(problems.length === 1 ? `${file}: ${problems[0]}` : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
  }
}

/** ["clients", 2, "public_key"] → "clients[2].public_key". */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

const MAX_SHOWN_CHARS = 60;

/** What arrived, in TOML terms. */
export function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing (the key is missing)';
  if (typeof input === 'string') return JSON.stringify(input.length > MAX_SHOWN_CHARS ? `${input.slice(0, MAX_SHOWN_CHARS)}...` : input);
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint') return String(input);
  if (Array.isArray(input)) return `an array of ${input.length}`;
  if (input instanceof Date) return `a date (${input.toISOString()})`;
  if (typeof input === 'object' && input !== null) return 'a table';
  return typeof input;
}

const TOML_TYPE: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', array: 'an array', object: 'a table' };

function issueLines(issue: z.core.$ZodIssue): string[] {
  const where = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${keyPath([...issue.path, key])}: unknown key (a typo? every key is listed in docs/CONFIG.md)`);
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) message = `expected ${TOML_TYPE[issue.expected] ?? issue.expected}`;
  const stripped = /^[A-Z][a-z ]+: (expected .*)$/.exec(message); // zod's "Too small: expected ..." wording
  if (stripped) message = stripped[1]!;
  if (!/\bgot\b/.test(message)) message += `, got ${describeInput(issue.input)}`;
  return [`${where}: ${message}`];
}

/** Parses TOML text and validates it; throws ConfigError naming `file`. */
export function parseConfigText<T extends z.ZodType>(schema: T, text: string, file: string): z.output<T> {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const summary = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ConfigError(`${file}:${error.line}:${error.column}`, [`TOML syntax error: ${summary}`]);
    }
    throw new ConfigError(file, [`TOML syntax error: ${(error as Error).message}`]);
  }
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(file, result.error.issues.flatMap(issueLines));
  return result.data;
}

export async function loadConfigFile<T extends z.ZodType>(schema: T, file: string): Promise<z.output<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the config file: ${(error as Error).message}`]);
  }
  return parseConfigText(schema, text, file);
}

export const loadServerConfig = (file: string): Promise<ServerConfig> => loadConfigFile(serverConfigSchema, file);
export const loadClientConfig = (file: string): Promise<ClientConfig> => loadConfigFile(clientConfigSchema, file);
export const loadRelayConfig = (file: string): Promise<RelayConfig> => loadConfigFile(relayConfigSchema, file);
