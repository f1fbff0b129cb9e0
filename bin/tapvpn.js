#!/usr/bin/env node
// The tapvpn command. An installed package runs its compiled JavaScript (dist/), with no
// TypeScript loader. In a checkout (src/cli/main.ts is there) dist/ runs only while it is
// current — no source file changed, added or removed since `npm run build` started (dist/build.json) —
// and otherwise the TypeScript source runs through tsx, so an old build never runs by mistake.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

async function buildIsCurrent() {
  let built;
  try {
    built = JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8'));
  } catch {
    return false; // no build.json: never built, or the build failed
  }
  const { sourceState } = await import('./source-state.js');
  const now = sourceState(root);
  return existsSync(compiled) && now.pathsDigest === built.pathsDigest && now.newestMs < built.sourcesAsOfMs;
}

if (!existsSync(source) || (await buildIsCurrent())) {
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
