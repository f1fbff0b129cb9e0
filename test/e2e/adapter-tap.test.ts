/**
 * The real TAP device in a tvt- namespace: our process keeps the fd while the
 * link lives in the namespace. The kernel's ARP request for a neighbour comes
 * out of the TAP as a frame; an ARP reply we write goes into the kernel (the
 * neighbour entry appears). Root and /dev/net/tun needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTap, TapOpenError } from '../../adapter/linux-tap.js';
import { moveToNamespace, addAddress, setLinkUp } from '../../adapter/link.js';
import { run } from '../../src/io/command.js';

const SUFFIX = String(process.pid % 100000);
const NAMESPACE = `tvt-tap${SUFFIX}`;
const TAP_NAME = `tvt-t${SUFFIX}`;
const OUR_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x99];
const FRAME_WAIT_MS = 5000;

function arpReply(request: Uint8Array): Uint8Array {
  const reply = new Uint8Array(42);
  reply.set(request.subarray(6, 12), 0); // to the asker
  reply.set(OUR_MAC, 6);
  reply.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2], 12);
  reply.set(OUR_MAC, 22);
  reply.set(request.subarray(38, 42), 28); // sender IP = the address asked for
  reply.set(request.subarray(22, 32), 32); // target = the asker's MAC and IP
  return reply;
}

test('a TAP moved into a namespace carries frames both ways', async () => {
  await run('ip', ['netns', 'add', NAMESPACE]);
  const tap = await openTap({ name: TAP_NAME, mtu: 1400 });
  try {
    assert.equal(tap.name, TAP_NAME);
    await moveToNamespace(TAP_NAME, NAMESPACE);
    await addAddress(TAP_NAME, '10.99.0.1', 24, NAMESPACE);
    await setLinkUp(TAP_NAME, NAMESPACE);
    const mtu = JSON.parse((await run('ip', ['-n', NAMESPACE, '-j', 'link', 'show', TAP_NAME])).stdout)[0].mtu;
    assert.equal(mtu, 1400);

    const arpRequest = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ARP request read from the TAP')), FRAME_WAIT_MS);
      tap.onFrames((frames) => {
        for (const frame of frames) {
          const isArpFor99 = frame[12] === 0x08 && frame[13] === 0x06 && frame[21] === 1 && frame[41] === 99;
          if (isArpFor99) {
            clearTimeout(timer);
            resolve(frame.slice());
          }
        }
      });
    });
    const ping = run('ping', ['-c', '1', '-W', '2', '10.99.0.99'], { netns: NAMESPACE, allowFailure: true });
    const request = await arpRequest;
    assert.deepEqual([...request.subarray(0, 6)], [255, 255, 255, 255, 255, 255], 'ARP requests are broadcast');
    assert.deepEqual([...request.subarray(28, 32)], [10, 99, 0, 1], 'the namespace asks from its own address');
    assert.equal(tap.writeFrames([arpReply(request)]), 1);
    await ping;
    const neigh = (await run('ip', ['-n', NAMESPACE, 'neigh', 'show', '10.99.0.99'])).stdout;
    assert.match(neigh, /lladdr 02:00:00:00:00:99/, `the kernel learned our ARP reply: ${neigh}`);
    assert.ok(tap.counters.framesRead >= 1 && tap.counters.batchesRead >= 1);
  } finally {
    await tap.close();
    await tap.close(); // idempotent
    await run('ip', ['netns', 'del', NAMESPACE], { allowFailure: true });
  }
});

test('a bad device name is refused with a message that says why', async () => {
  await assert.rejects(openTap({ name: 'this-name-is-far-too-long' }), (error: unknown) => {
    assert.ok(error instanceof TapOpenError);
    assert.equal(error.code, 'BAD_NAME');
    assert.match(error.message, /at most 15 bytes/);
    return true;
  });
});

test('writing after close is a counted no-op, not a crash', async () => {
  const tap = await openTap({ name: `tvt-c${SUFFIX}` });
  await tap.close();
  assert.equal(tap.writeFrames([new Uint8Array(60)]), 0);
});
