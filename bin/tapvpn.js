#!/usr/bin/env node
// The tapvpn command. An installed package runs its compiled JavaScript (dist/), with no
// TypeScript loader. In a checkout (src/cli/main.ts is there) dist/ runs only while it is
// current — no source file or folder changed since `npm run build` started (dist/build.json) —
// and otherwise the TypeScript source runs through tsx, so an old build never runs by mistake.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');
const SOURCE_DIRS = ['src', 'adapter', 'emulators']; // tsconfig.build.json's include

/** The newest mtime under `dir`: its TypeScript files and its folders (a deletion touches the folder). */
function newestChangeMs(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestChangeMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function buildIsCurrent() {
  try {
    const { sourcesAsOfMs } = JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8'));
    const dirs = SOURCE_DIRS.map((dir) => join(root, dir)).filter((dir) => existsSync(dir));
    return existsSync(compiled) && dirs.every((dir) => newestChangeMs(dir) < sourcesAsOfMs);
  } catch {
    return false; // no build.json: never built, or the build failed
  }
}

if (!existsSync(source) || buildIsCurrent()) {
  if (!existsSync(compiled)) {
    console.error(`tapvpn: ${compiled} is missing: this installation is incomplete (reinstall the package, or run npm run build in a checkout)`);
    process.exit(1);
  }
  await import(pathToFileURL(compiled).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error(`tapvpn: no current build in ${join(root, 'dist')} and no tsx to run the source: run npm run build (or npm install for tsx)`);
    process.exit(1);
  }
  register();
  await import(pathToFileURL(source).href);
}
