import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { tcpRttMs } from '../../../src/io/tcp-rtt.js';

test('tcpRttMs: the kernel\'s RTT estimate of a live loopback connection; undefined once it is closed', async () => {
  const server = createServer((s) => s.on('data', (d) => s.write(d)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket: Socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    for (let i = 0; i < 3; i++) {
      socket.write('ping');
      await once(socket, 'data');
    }
    const rtt = tcpRttMs(socket);
    assert.equal(typeof rtt, 'number', 'the tcpinfo addon is built by npm install and answers for a TCP socket');
    assert.ok(rtt! > 0 && rtt! < 60_000, `a plausible RTT, got ${rtt}`);
    socket.destroy();
    assert.equal(tcpRttMs(socket), undefined);
    assert.equal(tcpRttMs(undefined), undefined);
  } finally {
    socket.destroy();
    server.close();
  }
});
