/** TAPVPN_QUEUEING: keys over the defaults, and precise errors for anything else. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_QUEUEING, parseQueueing, QueueingConfigError } from '../../../src/io/queueing.js';

test('empty or absent keeps the defaults', () => {
  assert.deepEqual(parseQueueing(undefined), DEFAULT_QUEUEING);
  assert.deepEqual(parseQueueing(' , '), DEFAULT_QUEUEING);
});

test('each key sets its field; the rest keep the defaults', () => {
  const settings = parseQueueing('txqueuelen=128, send_queue=262144,notsent_lowat=131072,sndbuf=0,rcvbuf=65536,backpressure=1,backpressure_bytes=32768,offload=0,offload_txqueuelen=4,gso_max_size=16384');
  assert.deepEqual(settings, {
    txqueuelen: 128,
    sendQueueBytes: 262144,
    notsentLowatBytes: 131072,
    sndbufBytes: 0,
    rcvbufBytes: 65536,
    backpressure: true,
    backpressureBytes: 32768,
    offload: false,
    offloadTxqueuelen: 4,
    gsoMaxSize: 16384,
  });
  assert.equal(parseQueueing('backpressure=0', { ...DEFAULT_QUEUEING, backpressure: true }).backpressure, false);
  assert.throws(() => parseQueueing('offload=2'), /offload must be 0 or 1/);
});

test('unknown keys, missing values and bad numbers are refused with what was expected', () => {
  const cases: Array<[string, RegExp]> = [
    ['txqlen=5', /"txqlen=5" is not key=value with a key among txqueuelen, send_queue/],
    ['txqueuelen', /"txqueuelen" is not key=value/],
    ['txqueuelen=1=2', /is not key=value/],
    ['txqueuelen=0', /txqueuelen must be an integer 1\.\.1073741824, got "0"/],
    ['send_queue=-1', /send_queue must be an integer 0\.\./],
    ['notsent_lowat=1.5', /notsent_lowat must be an integer 0\.\./],
    ['sndbuf=2000000000', /sndbuf must be an integer 0\.\.1073741824/],
    ['backpressure=2', /backpressure must be 0 or 1, got "2"/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseQueueing(text), (error: unknown) => error instanceof QueueingConfigError && error.code === 'BAD_QUEUEING' && message.test(error.message), text);
  }
});
