/**
 * FrameSocket's batch buffers come back to a pool once the stream has
 * written them. Two ways that can go wrong, each tested here against a
 * stream that finishes its writes only when the test says so (as a socket
 * whose peer is slow would):
 * - a buffer reused while a write still holds it: the bytes on the wire
 *   change under the stream, and the peer's digest check closes the tunnel;
 * - buffers never coming back: every flush allocates, and a busy tunnel's
 *   garbage is the daemon's peak memory.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { realCrypto } from '../../../src/crypto/index.js';
import type { ByteStream } from '../../../src/io/byte-stream.js';
import { FrameSocket, spareBatchBufferCount } from '../../../src/io/frame-socket.js';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { FrameType } from '../../../src/protocol/frames/header.js';
import { TunnelSession } from '../../../src/protocol/session.js';

interface HeldWrite {
  view: Uint8Array;
  copy: Buffer;
  written?: (error?: Error | null) => void;
}

/** A ByteStream whose writes finish when `finish` is called, oldest first. */
class HoldingStream extends EventEmitter implements ByteStream {
  readonly held: HeldWrite[] = [];
  readonly finished: Buffer[] = [];
  /** Every write whose bytes changed between write() and its finishing. */
  readonly changedUnderUs: number[] = [];
  destroyed = false;
  writableFinished = false;
  #writes = 0;

  get writableLength(): number {
    return this.held.reduce((sum, write) => sum + write.view.length, 0);
  }

  write(chunk: Uint8Array, written?: (error?: Error | null) => void): boolean {
    this.held.push({ view: chunk, copy: Buffer.from(chunk), written });
    return true;
  }

  /** Finishes the `count` oldest writes: checks their bytes are as written, then calls back. */
  finish(count = this.held.length): void {
    for (const write of this.held.splice(0, count)) {
      const index = this.#writes++;
      if (!write.copy.equals(write.view)) this.changedUnderUs.push(index);
      this.finished.push(write.copy);
      write.written?.(null);
    }
  }

  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): void {}
  resume(): void {}
  isPaused(): boolean {
    return false;
  }
}

function sessions() {
  const keys = { a: new Uint8Array(32).fill(7), b: new Uint8Array(32).fill(9), h: new Uint8Array(32) };
  const options = { crypto: realCrypto, suite: 'aes-256-gcm' as const, nowMs: 0, inBandRekey: true };
  const sender = new TunnelSession({ ...options, keys: { sendKey: keys.a.slice(), receiveKey: keys.b.slice(), handshakeHash: keys.h } });
  const receiver = new TunnelSession({ ...options, keys: { sendKey: keys.b.slice(), receiveKey: keys.a.slice(), handshakeHash: keys.h } });
  return { sender, receiver };
}

function frameSocketOver(stream: HoldingStream, session: TunnelSession): FrameSocket {
  const socket = new FrameSocket(stream, { onControl: () => undefined, onDecodeError: () => undefined, onClose: () => undefined }, { maxQueuedBytes: 64 * 1024 * 1024 });
  socket.attachSession(session, { onDatagram: () => undefined, onDataError: () => undefined });
  return socket;
}

/** Datagram `n`: 20 KiB whose bytes say which datagram it is. */
function datagram(n: number): Uint8Array {
  const bytes = new Uint8Array(20 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (n * 31 + i) & 0xff;
  return bytes;
}

/** Opens everything the stream finished, in order; returns the datagrams' numbers as read back from their bytes. */
function openAll(finished: Buffer[], receiver: TunnelSession): number[] {
  const numbers: number[] = [];
  const decoder = new FrameDecoder();
  for (const chunk of finished) {
    decoder.push(chunk, (frame) => {
      if (frame[4] === FrameType.REKEY) return assert.equal(receiver.openRekey(frame, 0), undefined, 'the REKEY opens');
      const opened = receiver.openData(frame, 0);
      assert.ok(opened.ok, `frame ${numbers.length} did not open: ${opened.ok ? '' : opened.error.message}`);
      const n = numbers.length;
      assert.deepEqual(opened.datagram, datagram(n), `datagram ${n} arrived altered`);
      numbers.push(n);
    });
  }
  return numbers;
}

const flushTurn = (): Promise<void> => new Promise((resolve) => queueMicrotask(resolve));

test('a batch buffer is not reused while a write that holds it is unfinished, and what reaches the peer opens in order', async () => {
  const stream = new HoldingStream();
  const { sender, receiver } = sessions();
  const socket = frameSocketOver(stream, sender);
  let next = 0;
  // Rounds of: several batches written and left unfinished (so several buffers are held at
  // once, and a buffer's tail is filled while its head is in flight), then only some finish.
  for (let round = 0; round < 40; round++) {
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 2 + (round % 3); i++) assert.ok(socket.sendDatagram(0x0800, datagram(next++)));
      await flushTurn();
    }
    stream.finish(Math.max(1, stream.held.length - 2));
  }
  stream.finish();
  assert.deepEqual(stream.changedUnderUs, [], 'no write changed before it finished');
  assert.equal(openAll(stream.finished, receiver).length, next);
});

test('a busy tunnel reuses a few batch buffers instead of allocating per flush', async () => {
  const stream = new HoldingStream();
  const { sender, receiver } = sessions();
  const socket = frameSocketOver(stream, sender);
  const buffersSeen = new Set<ArrayBufferLike>();
  let next = 0;
  for (let flush = 0; flush < 200; flush++) {
    for (let i = 0; i < 3; i++) socket.sendDatagram(0x0800, datagram(next++));
    await flushTurn();
    for (const write of stream.held) buffersSeen.add(write.view.buffer);
    stream.finish(); // the socket keeps up: each write finishes before the next batch
  }
  // 600 datagrams of 20 KiB is ~12 MiB through 256 KiB buffers: ~48 of them if each were used once.
  assert.ok(buffersSeen.size <= 2, `${buffersSeen.size} batch buffers for 200 flushes`);
  assert.equal(openAll(stream.finished, receiver).length, next);
});

test('a stream closed between the seal and the flush writes nothing and gives its batch buffer back to the pool', async () => {
  const stream = new HoldingStream();
  const { sender } = sessions();
  const socket = frameSocketOver(stream, sender);
  const spareBefore = spareBatchBufferCount();
  socket.sendDatagram(0x0800, datagram(0));
  assert.equal(spareBatchBufferCount(), Math.max(0, spareBefore - 1), 'the batch took a spare buffer if there was one');
  stream.destroyed = true;
  await flushTurn();
  assert.equal(stream.held.length, 0, 'nothing written to a closed stream');
  assert.equal(spareBatchBufferCount(), Math.max(1, spareBefore), 'the buffer is back');
});
