/**
 * What the CLI touches outside itself, as one object: output streams, stdin,
 * the environment, signals, and the run modules behind the daemon commands. The
 * real one is process-backed; tests pass their own and read what was
 * written, so the CLI is tested without spawning processes.
 */
import { RUN_MODULES, type RunModules } from './run-modules.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
  env: NodeJS.ProcessEnv;
  /** Registers a signal handler (SIGINT, SIGTERM, SIGHUP). */
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
  /** The daemons' and the demo's run modules, each imported when its command runs. */
  runModules: RunModules;
}

export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    readStdin: async () => {
      let text = '';
      for await (const chunk of process.stdin) text += chunk;
      return text;
    },
    stdinIsTty: process.stdin.isTTY === true,
    env: process.env,
    onSignal: (signal, handler) => void process.on(signal, handler),
    runModules: RUN_MODULES,
  };
}
