/**
 * What the CLI touches outside itself, as one object: output streams, stdin,
 * the environment, signals, and the dynamic import of the run modules. The
 * real one is process-backed; tests pass their own and read what was
 * written, so the CLI is tested without spawning processes.
 */

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
  env: NodeJS.ProcessEnv;
  /** Registers a signal handler (SIGINT, SIGTERM, SIGHUP). */
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
  /** import() of a module path relative to src/cli/commands/. */
  importModule(specifier: string): Promise<Record<string, unknown>>;
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
    importModule: (specifier) => import(new URL(specifier, new URL('./commands/', import.meta.url)).href) as Promise<Record<string, unknown>>,
  };
}
