/**
 * Process entry of the `tapvpn` command (bin/tapvpn.js loads it): runs the
 * CLI against the real process and exits with its status.
 */
import { runCli } from './app.js';
import { processIo } from './io.js';

runCli(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // runCli reports its own errors; reaching here is a bug in the CLI itself.
    console.error('tapvpn: internal error:', error);
    process.exit(1);
  },
);
