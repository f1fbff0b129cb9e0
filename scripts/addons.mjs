#!/usr/bin/env node
// The native addons, one node-gyp project per folder: adapter/native (the TAP device) and
// src/crypto/native (the OpenSSL AEAD context) and src/io/native (TCP_INFO, a tunnel's RTT). At run time node-gyp-build loads each from
// <folder>/build/Release (a source build) or <folder>/prebuilds/<platform>-<arch>/ (prebuildify).
//   node scripts/addons.mjs build     node-gyp rebuild of each (a checkout: scripts/test.sh)
//   node scripts/addons.mjs install   the package's install script: a folder whose prebuilt binary
//                                     loads and that has no source build is left alone (an installed
//                                     package); any other (a checkout, another platform) is built
//   node scripts/addons.mjs prebuild  prebuildify each for this platform (npm pack runs it: prepack)
// node-gyp is npm's own (npm puts it on PATH and in npm_config_node_gyp for scripts); a source
// build needs make, g++ and python3.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
/** Each addon: its folder (binding.gyp, source, build/, prebuilds/) and its target_name. */
const ADDONS = [
  { dir: join(root, 'adapter', 'native'), name: 'tapvpn_tap' },
  { dir: join(root, 'src', 'crypto', 'native'), name: 'tapvpn_aead' },
  { dir: join(root, 'src', 'io', 'native'), name: 'tapvpn_tcpinfo' },
];

function run(program, args, cwd) {
  const result = spawnSync(program, args, { cwd, stdio: 'inherit' });
  if (result.error) throw new Error(`addons: cannot run ${program}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`addons: ${program} ${args.join(' ')} failed in ${cwd} (exit ${result.status}); a source build needs make, g++ and python3`);
}

/** node-gyp through node when npm named its script, else from PATH. */
function nodeGyp(args, cwd) {
  const script = process.env.npm_config_node_gyp;
  if (script && existsSync(script)) run(process.execPath, [script, ...args], cwd);
  else run('node-gyp', args, cwd);
}

function prebuiltLoads(addon) {
  if (existsSync(join(addon.dir, 'build'))) return false; // a source build is there: rebuild it
  try {
    require('node-gyp-build')(addon.dir);
    return true;
  } catch {
    return false; // none for this platform, or it does not load here
  }
}

function prebuild(addon) {
  rmSync(join(addon.dir, 'prebuilds'), { recursive: true, force: true });
  const bin = require.resolve('prebuildify/bin.js');
  const args = ['--napi', '--strip', '--tag-libc', '--name', addon.name, '--target', process.versions.node, '--cwd', addon.dir];
  const script = process.env.npm_config_node_gyp;
  if (script && existsSync(script)) process.env.PREBUILD_NODE_GYP ??= script;
  run(process.execPath, [bin, ...args], root);
}

const mode = process.argv[2];
try {
  for (const addon of ADDONS) {
    if (mode === 'build') nodeGyp(['rebuild'], addon.dir);
    else if (mode === 'install') prebuiltLoads(addon) || nodeGyp(['rebuild'], addon.dir);
    else if (mode === 'prebuild') prebuild(addon);
    else throw new Error(`addons: unknown mode "${mode}" (build, install or prebuild)`);
  }
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
