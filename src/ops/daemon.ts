/**
 * The operations side of a daemon in one call: its control socket
 * ([control], on by default) and its management listener ([metrics],
 * opt-in), both answering from the same snapshot provider. Started after
 * the daemon's own listener is up, closed before it stops.
 */
import { defaultControlSocket } from '../config/fields.js';
import type { Logger } from '../log.js';
import { resolveId } from '../util/privileges.js';
import { startControlSocket, type ControlSocket } from './control/server.js';
import type { ManagementListener } from './management.js';
import type { DaemonSnapshot, SnapshotProvider } from './snapshot.js';

export interface OpsConfig {
  control: { enabled: boolean; socket?: string | undefined; group?: string | undefined };
  metrics: { enabled: boolean; address: string; port: number };
}

export interface DaemonOps {
  readonly controlPath: string | undefined;
  readonly metricsPort: number | undefined;
  close(): Promise<void>;
}

export async function startDaemonOps(role: DaemonSnapshot['role'], name: string, config: OpsConfig, snapshot: SnapshotProvider, log: Logger): Promise<DaemonOps> {
  let control: ControlSocket | undefined;
  let management: ManagementListener | undefined;
  if (config.control.enabled) {
    const path = config.control.socket ?? defaultControlSocket(role, name);
    const gid = config.control.group === undefined ? undefined : resolveId('group', config.control.group);
    control = await startControlSocket({ path, ...(gid === undefined ? {} : { gid }), commands: { status: () => snapshot() } }, log);
  }
  try {
    // Loaded only when enabled: prom-client and the status page are a few MiB of a daemon's memory it would carry for nothing.
    if (config.metrics.enabled) management = await (await import('./management.js')).startManagementListener({ address: config.metrics.address, port: config.metrics.port }, snapshot, role, log);
  } catch (error) {
    await control?.close();
    throw error;
  }
  return {
    controlPath: control?.path,
    metricsPort: management?.port,
    async close() {
      await management?.close();
      await control?.close();
    },
  };
}
