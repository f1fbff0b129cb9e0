/**
 * docs/CONFIG.md and the annotated examples list every key the schemas
 * accept, and nothing else: the key paths come from the schemas themselves
 * (zod's JSON Schema of their input), so adding a key without documenting
 * it fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { clientConfigSchema, relayConfigSchema, serverConfigSchema } from '../../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

/** Every key path of a schema's input: "listen.port", "clients[].name"; tables and arrays of tables included. */
function keyPaths(schema: z.ZodType): { all: Set<string>; leaves: Set<string> } {
  const all = new Set<string>();
  const leaves = new Set<string>();
  const walk = (node: JsonSchema, prefix: string): void => {
    const table = node.anyOf?.find((n) => n.properties || n.items?.properties) ?? node;
    const target = table.type === 'array' && table.items?.properties ? table.items : table;
    const inner = target === table ? prefix : `${prefix}[]`;
    if (!target.properties) {
      leaves.add(prefix);
      return;
    }
    for (const [key, child] of Object.entries(target.properties)) {
      const path = inner ? `${inner}.${key}` : key;
      all.add(path);
      walk(child, path);
    }
  };
  walk(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, '');
  return { all, leaves };
}

/** The backticked keys in the first column of the tables under "## <file>". */
function documentedKeys(markdown: string, file: string): Set<string> {
  const start = markdown.indexOf(`\n## ${file}\n`);
  assert.ok(start >= 0, `docs/CONFIG.md has a "## ${file}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return new Set([...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
}

/** Keys set or shown commented out in an annotated example, as paths. */
function exampleKeys(toml: string): Set<string> {
  const out = new Set<string>();
  let prefix = '';
  let arrayKey: string | undefined;
  for (const line of toml.split('\n')) {
    const header = /^\s*(\[\[?)([a-z_.]+)\]\]?/.exec(line);
    if (header) {
      prefix = header[1] === '[[' ? `${header[2]}[]` : header[2]!;
      continue;
    }
    const key = /^\s*#?\s*([a-z_][a-z0-9_]*)\s*=/.exec(line);
    if (key) out.add(prefix ? `${prefix}.${key[1]}` : key[1]!);
    // An inline table in a (possibly commented, multi-line) array: `#   { address = "a", port = 1 },` under `servers = [`.
    if (key && /=\s*\[\s*$/.test(line)) arrayKey = key[1]!;
    else if (arrayKey && /^\s*#?\s*\{/.test(line)) for (const inner of line.matchAll(/[{,]\s*([a-z_]+)\s*=/g)) out.add(`${arrayKey}[].${inner[1]}`);
    else if (/^\s*#?\s*\]/.test(line)) arrayKey = undefined;
  }
  return out;
}

const FILES = [
  { file: 'server.toml', schema: serverConfigSchema },
  { file: 'client.toml', schema: clientConfigSchema },
  { file: 'relay.toml', schema: relayConfigSchema },
];

for (const { file, schema } of FILES) {
  test(`docs/CONFIG.md documents every ${file} key, and only those`, async () => {
    const markdown = await readFile(`${ROOT}docs/CONFIG.md`, 'utf8');
    const { all, leaves } = keyPaths(schema);
    const documented = documentedKeys(markdown, file);
    const missing = [...leaves].filter((k) => !documented.has(k));
    const unknown = [...documented].filter((k) => !all.has(k));
    assert.deepEqual(missing, [], `undocumented keys of ${file}`);
    assert.deepEqual(unknown, [], `documented keys that ${file} does not accept`);
  });
}

for (const { file, schema } of FILES.filter((f) => f.file !== 'relay.toml')) {
  test(`examples/${file} shows every key (set or commented out)`, async () => {
    const shown = exampleKeys(await readFile(`${ROOT}examples/${file}`, 'utf8'));
    const { all, leaves } = keyPaths(schema);
    assert.deepEqual([...leaves].filter((k) => !shown.has(k)), [], `keys missing from examples/${file}`);
    assert.deepEqual([...shown].filter((k) => !all.has(k)), [], `keys in examples/${file} that the schema does not accept`);
  });
}
