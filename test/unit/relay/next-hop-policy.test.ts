/**
 * The relay is no open proxy (issue 10, item 2), performed as the attack:
 * an anonymous peer connects to a real relay on loopback and sends a RELAY
 * frame naming 127.0.0.1:22, a loopback port the config does not list, an
 * unlisted internal address and a DNS name. Each is refused with CLOSE
 * ROUTING_FAILURE and the same generic reason (no port-scanner oracle: a
 * listed hop with nothing listening gets that reason too), the relay's log
 * holds the detail, and listening sockets at the named addresses see no
 * connection — while a listed server is dialled (the control that shows
 * the listeners would have seen one).
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfigText } from '../../../src/config/load.js';
import { relayConfigSchema } from '../../../src/config/relay-schema.js';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { closeCodeName } from '../../../src/protocol/frames/close-codes.js';
import { parseClose } from '../../../src/protocol/frames/close.js';
import { FrameType } from '../../../src/protocol/frames/header.js';
import { encodeRelay } from '../../../src/protocol/frames/relay.js';
import { startRelay, type RelayHandle } from '../../../src/relay/run.js';

const RELAY_NAME = 'relay.tvt:7000';
const WAIT_MS = 5000;

interface Listener {
  server: Server;
  port: number;
  connections: number;
}

async function listen(host: string): Promise<Listener> {
  const listener: Listener = { server: createServer(), port: 0, connections: 0 };
  listener.server.on('connection', (socket) => {
    listener.connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    listener.server.once('error', reject);
    listener.server.listen(0, host, () => resolve());
  });
  listener.port = (listener.server.address() as AddressInfo).port;
  return listener;
}

/** Sends a RELAY frame naming `target` after this relay; resolves with the CLOSE the relay answers (bounded wait). */
function attack(relayPort: number, target: string): Promise<{ status: string; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(relayPort, '127.0.0.1');
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no CLOSE within ${WAIT_MS} ms for RELAY to ${target} (did the relay forward it?)`));
    }, WAIT_MS);
    socket.on('connect', () => socket.write(encodeRelay({ origin: 'mallory', hops: [RELAY_NAME, target] })));
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (frame) => {
        if (frame[4] !== FrameType.CLOSE) return;
        clearTimeout(timer);
        socket.destroy();
        const close = parseClose(frame);
        resolve({ status: closeCodeName(close.status), reason: close.reason });
      });
    });
    socket.on('error', () => undefined);
  });
}

describe('relay next-hop policy: only what the configuration names is dialled', () => {
  const logLines: string[] = [];
  let relay: RelayHandle;
  let listedServer: Listener;
  let closedListed: Listener;
  const victims: Record<string, Listener> = {};

  before(async () => {
    listedServer = await listen('127.0.0.1');
    closedListed = await listen('127.0.0.1');
    closedListed.server.close(); // listed, but nothing listens there any more
    victims.loopback = await listen('127.0.0.1');
    victims.internal = await listen('127.0.0.3');
    victims.dnsName = await listen('127.0.0.1');
    const config = parseConfigText(
      relayConfigSchema,
      `name = "${RELAY_NAME}"\n[listen]\naddress = "127.0.0.1"\n[limits]\nconnect_timeout = 2\n` +
        `[next_hops]\nservers = ["127.0.0.1:${listedServer.port}"]\nrelays = ["127.0.0.1:${closedListed.port}"]\n`,
      'relay.toml',
    );
    config.listen.port = 0; // any free port (the schema wants a real one)
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(chunk.toString()), done()) });
    relay = await startRelay(config, pino({ level: 'info' }, sink));
  });

  after(async () => {
    await relay?.stop();
    for (const listener of [listedServer, ...Object.values(victims)]) listener?.server.close();
  });

  const targets = (): Array<[string, string, Listener | undefined]> => [
    ['127.0.0.1:22 (the host\'s ssh port)', '127.0.0.1:22', undefined],
    ['an unlisted loopback port', `127.0.0.1:${victims.loopback!.port}`, victims.loopback],
    ['an unlisted internal address', `127.0.0.3:${victims.internal!.port}`, victims.internal],
    ['a DNS name the relay would resolve for the peer', `localhost:${victims.dnsName!.port}`, victims.dnsName],
  ];

  it('refuses each with CLOSE ROUTING_FAILURE and the generic reason, and connects to none of them', async () => {
    for (const [label, target, victim] of targets()) {
      const close = await attack(relay.port, target);
      assert.equal(close.status, 'ROUTING_FAILURE', label);
      assert.equal(close.reason, `cannot reach ${target}: next hop unavailable`, `${label}: the peer learns nothing more`);
      if (victim) assert.equal(victim.connections, 0, `${label}: nothing dialled`);
    }
    assert.equal(relay.status().refusals['next-hop-not-allowed'], 4);
    assert.equal(relay.status().tunnelsForwarded, 0);
  });

  it('logs the detail the peer does not get', () => {
    const refusals = logLines.filter((line) => line.includes('"refusal":"next-hop-not-allowed"') && line.includes('not dialled'));
    for (const [, target] of targets()) assert.ok(refusals.some((line) => line.includes(`"next":"${target}"`)), `log names ${target}`);
  });

  it('a listed hop with nothing listening gets the very same reason (refused and unreachable look alike)', async () => {
    const target = `127.0.0.1:${closedListed.port}`;
    const close = await attack(relay.port, target);
    assert.deepEqual(close, { status: 'ROUTING_FAILURE', reason: `cannot reach ${target}: next hop unavailable` });
    assert.equal(relay.status().refusals['next-hop-unreachable'], 1);
    assert.ok(logLines.some((line) => line.includes('"refusal":"next-hop-unreachable"') && /ECONNREFUSED/.test(line)), 'the connect error is in the log');
  });

  it('control: a listed server is dialled (so the listeners above would have seen a connection)', async () => {
    const socket = connect(relay.port, '127.0.0.1');
    try {
      socket.on('error', () => undefined);
      socket.write(encodeRelay({ origin: 'alice', hops: [RELAY_NAME, `127.0.0.1:${listedServer.port}`] }));
      const deadline = Date.now() + WAIT_MS;
      while (listedServer.connections === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(listedServer.connections, 1);
    } finally {
      socket.destroy();
    }
  });
});
