/**
 * A TCP proxy for end-to-end tests, standing on the path between client and
 * server like a hostile network: it forwards both ways and obeys commands on
 * stdin, one per line:
 *   cut   — destroy every open connection (a dropped TCP connection)
 *   flip  — flip one bit in the next client→server chunk that is large
 *           enough to hold a DATA frame's payload (an altered frame)
 *   flip-handshake — on the next new connection, flip one bit in the last
 *           byte of the Noise message of the client's first chunk big enough
 *           to hold its REQUEST (the byte before its 32 bytes of mac1 ‖ mac2:
 *           a handshake altered on the path)
 * It prints "listening" once ready and "flipped"/"cut" after each command.
 * Usage: tcp-proxy.ts <listenHost> <listenPort> <targetHost> <targetPort>
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
const FLIP_MIN_CHUNK = 100; // past the headers of a DATA frame carrying a ping
const open = new Set<Socket>();
let flipNext = false;
let flipHandshake = false;
const FLIP_HANDSHAKE_MIN_CHUNK = 60; // more than a RELAY frame, less than a REQUEST's Noise message

const server = createServer((client) => {
  const upstream = createConnection({ host: targetHost!, port: Number(targetPort) });
  open.add(client).add(upstream);
  let handshakeToFlip = flipHandshake;
  flipHandshake = false;
  client.on('data', (chunk: Buffer) => {
    if (handshakeToFlip && chunk.length >= FLIP_HANDSHAKE_MIN_CHUNK) {
      handshakeToFlip = false;
      chunk[chunk.length - 33]! ^= 0x01; // mac2 (the last 16 bytes) is read only under load: a flip there would change nothing
      console.log('flipped-handshake');
    } else if (flipNext && chunk.length >= FLIP_MIN_CHUNK) {
      flipNext = false;
      chunk[chunk.length - 1]! ^= 0x01;
      console.log('flipped');
    }
    upstream.write(chunk);
  });
  upstream.on('data', (chunk: Buffer) => client.write(chunk));
  const end = (): void => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('close', end).on('error', end);
  upstream.on('close', end).on('error', end);
});
server.listen(Number(listenPort), listenHost, () => console.log('listening'));

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'cut') {
    for (const socket of open) socket.destroy();
    open.clear();
    console.log('cut');
  } else if (line === 'flip') {
    flipNext = true;
  } else if (line === 'flip-handshake') {
    flipHandshake = true;
  }
});
process.stdin.on('end', () => process.exit(0));
