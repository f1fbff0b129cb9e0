/**
 * Runs a system command (ip, nft, dhclient ...) and returns its output, or
 * throws a CommandError that names the command line, the exit status and the
 * program's own stderr — the three things an admin needs to fix it.
 */
import { execFile } from 'node:child_process';

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly commandLine: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`\`${commandLine}\` failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || 'no error output'}`);
  }
}

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  timeoutMs?: number;
  /** Do not throw on a non-zero exit; the caller inspects `exitCode`. */
  allowFailure?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = options.netns ? ['ip', 'netns', 'exec', options.netns, program, ...args] : [program, ...args];
  const commandLine = argv.join(' ');
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (error && !options.allowFailure) {
        const why = error.code === 'ENOENT' ? `${argv[0]} is not installed` : stderr || error.message;
        reject(new CommandError(commandLine, typeof error.code === 'number' ? error.code : null, why));
        return;
      }
      resolve({ stdout, stderr, exitCode });
    });
  });
}
