/**
 * applyCarrierOptions over a real loopback TCP connection: the options land on
 * the socket (read back with getsockopt through the addon), before and after
 * connect, and the addon refuses names outside its list.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { loadTapBinding } from '../../../adapter/native-binding.js';
import { applyCarrierOptions } from '../../../src/io/carrier-options.js';

const fdOf = (socket: Socket): number => (socket as unknown as { _handle: { fd: number } })._handle.fd;

test('set on a connecting socket, the options apply once it is connected; on an accepted one at once', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
  const errors: Error[] = [];
  applyCarrierOptions(client, { notsentLowatBytes: 16384, sndbufBytes: 65536, rcvbufBytes: 0 }, (error) => errors.push(error));
  await once(client, 'connect');
  const [far] = await accepted;
  try {
    applyCarrierOptions(far, { notsentLowatBytes: 0, sndbufBytes: 0, rcvbufBytes: 131072 }, (error) => errors.push(error));
    const binding = loadTapBinding();
    assert.deepEqual(errors, []);
    assert.equal(binding.getSocketOption(fdOf(client), 'TCP_NOTSENT_LOWAT'), 16384);
    assert.equal(binding.getSocketOption(fdOf(client), 'SO_SNDBUF'), 2 * 65536, 'the kernel doubles SO_SNDBUF (socket(7))');
    assert.equal(binding.getSocketOption(fdOf(far), 'SO_RCVBUF'), 2 * 131072);
    assert.notEqual(binding.getSocketOption(fdOf(far), 'TCP_NOTSENT_LOWAT'), 16384, 'only the asked-for socket changed');
  } finally {
    client.destroy();
    far.destroy();
    server.close();
  }
});

test('the addon sets only its listed options, with non-negative values', () => {
  const binding = loadTapBinding();
  assert.throws(() => binding.setSocketOption(0, 'SO_REUSEADDR' as never, 1), /TCP_NOTSENT_LOWAT \| SO_SNDBUF \| SO_RCVBUF/);
  assert.throws(() => binding.setSocketOption(0, 'SO_SNDBUF', -1), /value: integer >= 0/);
});

test('a closed socket reports an error instead of throwing', () => {
  const socket = connect({ host: '127.0.0.1', port: 9 });
  socket.on('error', () => undefined);
  socket.destroy();
  const errors: Error[] = [];
  applyCarrierOptions(socket, { notsentLowatBytes: 16384, sndbufBytes: 0, rcvbufBytes: 0 }, (error) => errors.push(error));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /no file descriptor/);
});
