/**
 * `tapvpn status [--json] [--socket PATH]`: asks running daemons for their
 * status over their control sockets (src/ops/control/) and prints it aligned
 * for a terminal, or as JSON. Without --socket it asks every socket in the
 * run directory, as `wg show` shows every interface.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_DIRECTORY } from '../../config/fields.js';
import { requestControl } from '../../ops/control/client.js';
import { renderSnapshot } from '../../ops/render/status.js';
import type { DaemonSnapshot } from '../../ops/snapshot.js';
import { EXIT_OK, EXIT_RUNTIME } from '../errors.js';
import type { CliIo } from '../io.js';

const STATUS_TIMEOUT_MS = 5000;

export class NoDaemonError extends Error {
  override readonly name = 'NoDaemonError';
}

async function socketsIn(directory: string): Promise<string[]> {
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return names.filter((name) => name.endsWith('.sock')).sort().map((name) => join(directory, name));
}

async function ask(path: string): Promise<DaemonSnapshot> {
  const response = await requestControl(path, 'status', STATUS_TIMEOUT_MS);
  if (!response.ok) throw new Error(`${path}: ${response.error.code}: ${response.error.message}`);
  return response.result as DaemonSnapshot;
}

export async function status(io: CliIo, socket: string | undefined, json: boolean, directory = RUN_DIRECTORY): Promise<number> {
  if (socket) {
    const snapshot = await ask(socket);
    io.out(json ? JSON.stringify(snapshot, null, 2) : renderSnapshot(snapshot));
    return EXIT_OK;
  }
  const paths = await socketsIn(directory);
  if (paths.length === 0) throw new NoDaemonError(`no control sockets in ${directory}: is a tapvpn daemon running? (use --socket PATH for one configured elsewhere)`);
  const snapshots: DaemonSnapshot[] = [];
  let failed = false;
  for (const path of paths) {
    try {
      snapshots.push(await ask(path));
    } catch (error) {
      failed = true;
      io.err(`tapvpn: ${(error as Error).message}`);
    }
  }
  io.out(json ? JSON.stringify(snapshots, null, 2) : snapshots.map(renderSnapshot).join('\n\n'));
  return failed ? EXIT_RUNTIME : EXIT_OK;
}
