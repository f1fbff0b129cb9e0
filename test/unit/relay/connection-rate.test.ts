/**
 * A relay's per-source budget for new connections: every client behind a
 * relay shares the relay's handshake budget at the server, so one peer
 * opening connections fast must be turned away at the relay — with BUSY,
 * which clients retry without counting it against the server — while
 * another source still gets in. Real sockets on loopback.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseConfigText } from '../../../src/config/load.js';
import { relayConfigSchema } from '../../../src/config/relay-schema.js';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { parseClose } from '../../../src/protocol/frames/close.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import { FrameType } from '../../../src/protocol/frames/header.js';
import { startRelay } from '../../../src/relay/run.js';

const BURST = 3;

/** Connects from `from` and reports the first CLOSE's code, or 'open' if none came within `waitMs`. */
function attempt(port: number, from: string, waitMs = 400): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: from });
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => (socket.destroy(), resolve('open')), waitMs);
    socket.on('data', (chunk) =>
      decoder.push(chunk, (frame) => {
        if (frame[4] !== FrameType.CLOSE) return;
        clearTimeout(timer);
        socket.destroy();
        resolve(parseClose(frame).status);
      }),
    );
    socket.on('error', (error) => (clearTimeout(timer), reject(error)));
  });
}

test(`past ${BURST} new connections at once from one source the relay answers BUSY; another source still gets in`, async () => {
  const config = parseConfigText(relayConfigSchema, `name = "relay.tvt:7000"\n[listen]\naddress = "127.0.0.1"\n[limits]\nper_source_burst = ${BURST}\nper_source_rate = 0.01\n[control]\nenabled = false\n`, 'relay.toml');
  config.listen.port = 0;
  const relay = await startRelay(config, pino({ level: 'silent' }));
  try {
    const first = await Promise.all(Array.from({ length: BURST + 2 }, () => attempt(relay.port, '127.0.0.1')));
    assert.equal(first.filter((outcome) => outcome === 'open').length, BURST, `outcomes: ${first.join(', ')}`);
    assert.deepEqual(first.filter((outcome) => outcome !== 'open'), [CloseCode.BUSY, CloseCode.BUSY]);
    assert.equal(await attempt(relay.port, '127.0.0.2'), 'open', 'a second source has its own budget');
    assert.equal(relay.status().refusals['too-many-handshakes'], 2);
  } finally {
    await relay.stop();
  }
});
