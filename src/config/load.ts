/**
 * Reads a TOML config file and validates it with a zod schema. Every error
 * names the file, the key path and what was expected, e.g.
 *   server.toml: clients[2].public_key: expected a base64 X25519 key ...
 * TOML syntax errors give line and column.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
  }
}

function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

export function parseConfigText<T extends z.ZodType>(schema: T, text: string, file: string): z.output<T> {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? `line ${error.line}, column ${error.column}: ` : '';
    throw new ConfigError(file, [`TOML syntax error at ${where}${(error as Error).message.split('\n')[0]}`]);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(file, result.error.issues.map((issue) => `${keyPath(issue.path)}: ${issue.message}`));
  }
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
