import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { eventually } from '../../support/eventually.js';
import { requestControl } from '../../../src/ops/control/client.js';
import { MAX_REQUEST_BYTES, parseRequest, parseResponse } from '../../../src/ops/control/protocol.js';
import { MAX_CONNECTIONS, startControlSocket, type ControlSocket } from '../../../src/ops/control/server.js';

const log = pino({ level: 'silent' });

async function withSocket(fn: (path: string, socket: ControlSocket) => Promise<void>, commands: Record<string, () => unknown> = { status: () => ({ role: 'test', tunnels: 2 }) }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-control-'));
  const path = join(dir, 'run', 'server-test.sock');
  const socket = await startControlSocket({ path, commands }, log);
  try {
    await fn(path, socket);
  } finally {
    await socket.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sends raw bytes; resolves with everything the daemon wrote before closing (or after `lines` lines). */
function exchange(path: string, data: string, lines = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(text)}`));
    }, 5000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(data));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.split('\n').length - 1 >= lines) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
  });
}

test('parseRequest: a status request with an id', () => {
  assert.deepEqual(parseRequest('{"v":1,"id":"a","command":"status"}'), { ok: true, request: { id: 'a', command: 'status', args: {} } });
});

test('parseRequest: each malformed request gets its own precise error', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not json', 'BAD_REQUEST', /not JSON/],
    ['[1]', 'BAD_REQUEST', /an array/],
    ['{"v":2,"command":"status"}', 'UNSUPPORTED_VERSION', /got 2/],
    ['{"v":1}', 'BAD_REQUEST', /"command"/],
    ['{"v":1,"command":"Status!"}', 'BAD_REQUEST', /lower-case/],
    ['{"v":1,"command":"status","args":3}', 'BAD_REQUEST', /"args"/],
    ['{"v":1,"id":{},"command":"status"}', 'BAD_REQUEST', /"id"/],
    [`{"v":1,"command":"status","pad":"${'x'.repeat(MAX_REQUEST_BYTES)}"}`, 'REQUEST_TOO_LARGE', /at most 4096/],
  ];
  for (const [line, code, message] of cases) {
    const parsed = parseRequest(line);
    assert.equal(parsed.ok, false, line);
    if (!parsed.ok) {
      assert.equal(parsed.code, code, line);
      assert.match(parsed.message, message, line);
    }
  }
});

test('parseRequest and parseResponse never throw, whatever the line', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (line) => {
      const request = parseRequest(line);
      assert.equal(typeof request.ok, 'boolean');
      const response = parseResponse(line);
      assert.ok(typeof response === 'string' || typeof response === 'object');
    }),
  );
});

test('control socket: mode 0660, answers status, and says what is wrong with bad requests', async () => {
  await withSocket(async (path) => {
    assert.equal((await stat(path)).mode & 0o777, 0o660);
    const response = await requestControl(path, 'status', 2000);
    assert.deepEqual(response, { v: 1, id: 1, ok: true, result: { role: 'test', tunnels: 2 } });
    const bad = JSON.parse(await exchange(path, 'hello\n')) as { ok: boolean; error: { code: string } };
    assert.equal(bad.ok, false);
    assert.equal(bad.error.code, 'BAD_REQUEST');
    const unknown = JSON.parse(await exchange(path, '{"v":1,"id":9,"command":"disconnect"}\n')) as { id: number; error: { code: string; message: string } };
    assert.equal(unknown.id, 9);
    assert.equal(unknown.error.code, 'UNKNOWN_COMMAND');
    assert.match(unknown.error.message, /knows: status/);
  });
});

test('control socket: several requests on one connection are answered in order', async () => {
  await withSocket(async (path) => {
    const text = await exchange(path, '{"v":1,"id":1,"command":"status"}\n{"v":1,"id":2,"command":"nope"}\n{"v":1,"id":3,"command":"status"}\n', 3);
    const ids = text.trim().split('\n').map((line) => (JSON.parse(line) as { id: number }).id);
    assert.deepEqual(ids, [1, 2, 3]);
  });
});

test('control socket: a request line without end that outgrows the bound is refused and the connection closed', async () => {
  await withSocket(async (path) => {
    const text = await exchange(path, 'x'.repeat(MAX_REQUEST_BYTES + 10), 2);
    const reply = JSON.parse(text.trim()) as { error: { code: string } };
    assert.equal(reply.error.code, 'REQUEST_TOO_LARGE');
    // the daemon keeps serving others
    assert.equal((await requestControl(path, 'status', 2000)).ok, true);
  });
});

test('control socket: a throwing command is an INTERNAL_ERROR answer, not a crash', async () => {
  await withSocket(
    async (path) => {
      const response = await requestControl(path, 'status', 2000);
      assert.equal(response.ok, false);
      if (!response.ok) assert.match(response.error.message, /status failed: snapshot broke/);
      assert.equal((await requestControl(path, 'status', 2000)).ok, false);
    },
    { status: () => { throw new Error('snapshot broke'); } },
  );
});

test('control socket: connections beyond the bound are turned away, the others still answered', async () => {
  await withSocket(async (path) => {
    const held = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () => new Promise<ReturnType<typeof connect>>((resolve) => { const s = connect({ path }, () => resolve(s)); })),
    );
    try {
      const extra = JSON.parse(await exchange(path, '')) as { error: { message: string } };
      assert.match(extra.error.message, /too many control connections/);
      held[0]!.destroy();
      await eventually('a freed slot to take a new connection', async () => (await requestControl(path, 'status', 2000)).ok, 5000);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});

test('control socket: a stale socket file is replaced; a live daemon is never displaced; a plain file is refused', async () => {
  await withSocket(async (path) => {
    await assert.rejects(startControlSocket({ path, commands: {} }, log), { code: 'IN_USE' });
    assert.equal((await requestControl(path, 'status', 2000)).ok, true);
  });
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-control-'));
  try {
    const file = join(dir, 'plain.sock');
    await writeFile(file, 'not a socket');
    await assert.rejects(startControlSocket({ path: file, commands: {} }, log), { code: 'NOT_A_SOCKET' });
    // a socket file nobody listens on: made by a server we close without unlinking
    const { createServer } = await import('node:net');
    const stale = join(dir, 'stale.sock');
    const orphan = createServer();
    await new Promise<void>((resolve) => orphan.listen(stale, resolve));
    // libuv unlinks on close; recreate the orphan file state by hard-linking before closing
    const { link } = await import('node:fs/promises');
    await link(stale, `${stale}.keep`);
    await new Promise<void>((resolve) => orphan.close(() => resolve()));
    await link(`${stale}.keep`, stale);
    const socket = await startControlSocket({ path: stale, commands: { status: () => 1 } }, log);
    assert.equal((await requestControl(stale, 'status', 2000)).ok, true);
    await socket.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('requestControl: no daemon is a NO_DAEMON error naming the path', async () => {
  await assert.rejects(requestControl('/nonexistent/tapvpn.sock', 'status', 1000), (error: Error & { code?: string }) => error.code === 'NO_DAEMON' && error.message.includes('/nonexistent/tapvpn.sock'));
});
