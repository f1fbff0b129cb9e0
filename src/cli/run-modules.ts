/**
 * The run modules behind the daemon commands and the demo, as a typed table:
 * each entry imports its module only when its command runs (so `genkey` or
 * `check-config` never load the data path), and the import paths are
 * literals, so the compiler checks every module against what the CLI calls
 * and the build cannot miss one. Tests pass their own table through CliIo.
 */
import type { ClientConfig } from '../config/client.js';
import type { RelayConfig } from '../config/relay-schema.js';
import type { ServerConfig } from '../config/server.js';
import type { Logger } from '../log.js';

/** A running daemon: stopped on SIGINT/SIGTERM. */
export interface DaemonHandle {
  stop(): Promise<void>;
}

export interface RunModules {
  server(): Promise<{ startServer(config: ServerConfig, log: Logger): Promise<DaemonHandle & { readonly config: ServerConfig; reload(config: ServerConfig): void }> }>;
  /** The handle's `done` resolves when the client stops for good on its own (a refusal retrying cannot fix). */
  client(): Promise<{ startClient(config: ClientConfig, log: Logger): Promise<DaemonHandle & { done: Promise<void> }> }>;
  relay(): Promise<{ startRelay(config: RelayConfig, log: Logger): Promise<DaemonHandle> }>;
  demo(): Promise<{ runDemo(): Promise<number> }>;
}

export const RUN_MODULES: RunModules = {
  server: () => import('../server/run.js'),
  client: () => import('../client/run.js'),
  relay: () => import('../relay/run.js'),
  demo: () => import('../demo/run.js'),
};
