/**
 * The LAN host's web server in the end-to-end tests: python3's http.server
 * serving a folder inside a namespace, returned only once it answers a
 * request (bounded), so a slow interpreter start is a wait, not a failed curl.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { run } from '../../src/io/command.js';
import { eventually } from './eventually.js';

const READY_TIMEOUT_MS = 20_000;
const PROBE_TIMEOUT_S = 2;

/** Starts `python3 -m http.server` on address:port in `netns` serving `dir`; pushes it to `children` for clean-up. */
export async function startHttpServer(netns: string, address: string, port: number, dir: string, children: ChildProcess[]): Promise<ChildProcess> {
  const server = spawn('ip', ['netns', 'exec', netns, 'python3', '-m', 'http.server', String(port), '--bind', address, '--directory', dir], { stdio: 'ignore' });
  children.push(server);
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
  await eventually(`http.server at ${url} in ${netns} to answer`, async () => {
    if (server.exitCode !== null) assert.fail(`http.server in ${netns} exited with ${server.exitCode} before answering`);
    const probe = await run('curl', ['-gsS', '-o', '/dev/null', '-m', String(PROBE_TIMEOUT_S), url], { netns, allowFailure: true });
    return probe.exitCode === 0;
  }, READY_TIMEOUT_MS);
  return server;
}
