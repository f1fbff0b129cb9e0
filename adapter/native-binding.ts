/**
 * Loads the native TAP addon (adapter/native/tap.c, built by `npm install`
 * through node-gyp into build/Release). Found by walking up from this module
 * to the package root, so it works from source (tsx) and from dist/.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TapBinding {
  open(name: string): { fd: number; name: string };
  startReading(
    fd: number,
    slab: Uint8Array,
    lengths: Uint32Array,
    maxFrame: number,
    callback: (count: number, error: Error | undefined) => void,
  ): object;
  stopReading(handle: object): void;
  writeFrames(fd: number, frames: readonly Uint8Array[]): number;
  close(fd: number): void;
}

const ADDON_PATH = join('build', 'Release', 'tapvpn_tap.node');

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('tapvpn: cannot find the package root (package.json) above adapter/');
}

let binding: TapBinding | undefined;

export function loadTapBinding(): TapBinding {
  if (binding) return binding;
  const path = join(packageRoot(), ADDON_PATH);
  if (!existsSync(path)) {
    throw new Error(`tapvpn: the TAP addon ${path} is not built — run \`npm install\` (it builds it with node-gyp; needs g++, make and python3)`);
  }
  binding = createRequire(import.meta.url)(path) as TapBinding;
  return binding;
}
