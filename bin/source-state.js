// What a build of a checkout was made from, so bin/tapvpn.js can tell whether dist/ is current:
// the TypeScript files under the folders tsconfig.build.json compiles — their newest mtime and
// a digest of their paths (a file added, deleted or renamed changes it). Only *.ts files count:
// the addons' build/ and prebuilds/ folders may change after a build without making it stale.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const SOURCE_DIRS = ['src', 'adapter', 'emulators']; // tsconfig.build.json's include

function collect(dir, files) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path, files);
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
}

/** { newestMs, pathsDigest } of the sources under `root`. */
export function sourceState(root) {
  const files = [];
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) collect(join(root, dir), files);
  let newestMs = 0;
  for (const file of files) newestMs = Math.max(newestMs, statSync(file).mtimeMs);
  const pathsDigest = createHash('sha256').update(files.map((file) => relative(root, file)).sort().join('\n')).digest('hex');
  return { newestMs, pathsDigest };
}
