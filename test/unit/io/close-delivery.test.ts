/**
 * How a CLOSE leaves, over real loopback TCP. A socket closed while bytes it
 * never read sit in its receive queue sends a RST instead of a FIN, and the
 * RST throws away what the kernel had queued but not sent yet — the tail of
 * the stream, the CLOSE last in it (and a peer's stack may drop what it had
 * not read). The closing FrameSocket ends, keeps reading and dropping until
 * the peer's FIN (bounded by CLOSE_LINGER_MS), then frees the socket.
 *
 * Loopback sends what is queued at once, where a WAN path holds it for
 * round trips: TCP_NOTSENT_LOWAT is raised for this process (before the
 * FrameSocket module reads it) so the kernel still holds unsent bytes when
 * the writes are done, as it would on such a path.
 */
process.env.TAPVPN_QUEUEING = 'notsent_lowat=4194304';

import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import { encodeClose, parseClose } from '../../../src/protocol/frames/close.js';
import { FrameType } from '../../../src/protocol/frames/header.js';
import { eventually } from '../../support/eventually.js';

const { CLOSE_LINGER_MS, FrameSocket } = await import('../../../src/io/frame-socket.js');

/** More than loopback's socket buffers hold at once: the tail is still in our kernel when the writes are done. */
const FILLER_BYTES = 16 << 20;

describe('CLOSE delivery over TCP', () => {
  let listener: Server | undefined;
  after(() => listener?.close());

  it('a stream closed with unread bytes from the peer still delivers everything it queued, its CLOSE last, and ends with a FIN, not a RST', async () => {
    const accepted = new Promise<Socket>((resolve) => {
      listener = createServer(resolve);
      listener.listen(0, '127.0.0.1');
    });
    await new Promise((resolve) => listener!.once('listening', resolve));
    const peer = connect({ host: '127.0.0.1', port: (listener!.address() as { port: number }).port });
    const socket = await accepted;
    let decodeErrors = 0;
    const frames = new FrameSocket(socket, { onControl: () => undefined, onDecodeError: () => decodeErrors++, onClose: () => undefined });

    // The peer sends a frame with a bad version and more behind it: reading stops at the decode error, bytes stay unread.
    const bad = encodeClose({ status: 0, reason: 'x' });
    bad[5] = 99;
    peer.write(Buffer.concat([bad, Buffer.alloc(1 << 20, 0xab)]));
    await eventually('the decode error (reading stops there)', () => decodeErrors === 1, 5_000);

    // Much queued toward a peer that is not reading yet, so the kernel still holds the tail when we are done writing.
    peer.pause();
    const received: Buffer[] = [];
    let peerError: Error | undefined;
    peer.on('data', (chunk) => received.push(chunk));
    peer.on('error', (error) => (peerError = error));
    const peerClosed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    frames.send(Buffer.alloc(FILLER_BYTES, 0x11));
    frames.send(encodeClose({ status: CloseCode.UNSUPPORTED_VERSION, reason: 'unsupported version' }));
    frames.closeSoon();
    setTimeout(() => peer.resume(), 300);
    await peerClosed;

    assert.equal(peerError, undefined, `the peer saw ${peerError?.message}: a RST, not a FIN`);
    const answer = Buffer.concat(received);
    assert.equal(answer.length, FILLER_BYTES + encodeClose({ status: CloseCode.UNSUPPORTED_VERSION, reason: 'unsupported version' }).length, 'every byte queued arrived');
    const close = answer.subarray(FILLER_BYTES);
    assert.equal(close[4], FrameType.CLOSE);
    assert.equal(parseClose(close).status, CloseCode.UNSUPPORTED_VERSION);
    await eventually('the closing side freed its socket', () => socket.destroyed, CLOSE_LINGER_MS + 2_000);
  });

  it('a peer that never ends its side holds the socket for CLOSE_LINGER_MS at most', async () => {
    const accepted = new Promise<Socket>((resolve) => listener!.once('connection', resolve));
    const peer = connect({ host: '127.0.0.1', port: (listener!.address() as { port: number }).port, allowHalfOpen: true });
    peer.on('error', () => undefined);
    peer.resume();
    const socket = await accepted;
    const frames = new FrameSocket(socket, { onControl: () => undefined, onDecodeError: () => undefined, onClose: () => undefined });
    frames.send(encodeClose({ status: CloseCode.TIMEOUT, reason: 'timeout' }));
    frames.closeSoon();
    await eventually('the socket freed without the peer\'s FIN', () => socket.destroyed, CLOSE_LINGER_MS + 3_000);
    peer.destroy();
  });
});
