/**
 * bindTcp / listenTcp(…, bound): a daemon takes its port while privileged
 * and listens only after dropping privileges. A bound port that does not
 * listen completes no handshake (the connect is refused); once listened on,
 * the same port accepts. "::" is dual-stack like Node's own listeners.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { bindTcp, closeBound, listenTcp } from '../../../src/io/tcp.js';

function tryConnect(host: string, port: number): Promise<'accepted' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve('accepted')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

test('a bound port refuses connections until it listens, then accepts them', async () => {
  const bound = bindTcp('127.0.0.1', 0);
  assert.ok(bound.port > 0);
  assert.equal(await tryConnect('127.0.0.1', bound.port), 'ECONNREFUSED', 'nothing is accepted before listen');
  const listener = await listenTcp('127.0.0.1', bound.port, () => undefined, bound);
  const accepted: string[] = [];
  listener.onConnection((stream, peer) => (accepted.push(peer.address), stream.destroy()));
  assert.equal(listener.port, bound.port);
  assert.equal(await tryConnect('127.0.0.1', bound.port), 'accepted');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(accepted, ['127.0.0.1']);
  await listener.close();
});

test('"::" is dual-stack; a port in use and a name instead of an address are errors with their codes', async () => {
  const bound = bindTcp('::', 0);
  const listener = await listenTcp('::', bound.port, () => undefined, bound);
  listener.onConnection((stream) => stream.destroy());
  assert.equal(await tryConnect('127.0.0.1', bound.port), 'accepted');
  assert.equal(await tryConnect('::1', bound.port), 'accepted');
  assert.throws(() => bindTcp('::', bound.port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
  await listener.close();
  assert.throws(() => bindTcp('localhost', 0), (e: NodeJS.ErrnoException) => e.code === 'EINVAL');
  const unused = bindTcp('127.0.0.1', 0);
  closeBound(unused);
});
