/** src/log.ts: JSON lines, levels from env over config, key material redacted, child loggers. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { childLogger, createLogger, resolveLevel } from '../../../src/log.js';

function capture(): { stream: Writable & { write: (chunk: string) => boolean }; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream: stream as never, lines: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)), text: () => text };
}

test('JSON lines carry the component and redact key material at any of the listed paths', () => {
  const out = capture();
  const log = createLogger('tapvpn-test', { pretty: false, level: 'info', destination: out.stream as never });
  log.info({ privateKey: 'SECRET1', config: { private_key: 'SECRET2' }, key: 'SECRET3', session: { sendKey: 'SECRET4' }, publicKey: 'PUBLIC' }, 'hello');
  childLogger(log, 'leases').warn({ keys: { a: 'SECRET5' } }, 'child');
  const [first, second] = out.lines();
  assert.equal(first!.name, 'tapvpn-test');
  assert.equal(first!.msg, 'hello');
  assert.equal(first!.privateKey, '[redacted]');
  assert.deepEqual(first!.config, { private_key: '[redacted]' });
  assert.equal(first!.key, '[redacted]');
  assert.deepEqual(first!.session, { sendKey: '[redacted]' });
  assert.equal(first!.publicKey, 'PUBLIC', 'public keys are not secret');
  assert.equal(second!.component, 'leases');
  assert.equal(second!.keys, '[redacted]');
  assert.doesNotMatch(out.text(), /SECRET/);
});

test('pretty output is human-readable and redacted too', () => {
  const out = capture();
  const log = createLogger('tapvpn-test', { pretty: true, destination: out.stream as never });
  log.info({ privateKey: 'SECRET' }, 'tunnel up');
  assert.match(out.text(), /INFO.*tunnel up/);
  assert.doesNotMatch(out.text(), /SECRET/);
});

test('level: environment over config over info; TAPVPN_DEBUG means debug', () => {
  assert.equal(resolveLevel(undefined, {}), 'info');
  assert.equal(resolveLevel('warn', {}), 'warn');
  assert.equal(resolveLevel('warn', { TAPVPN_DEBUG: '1' }), 'debug');
  assert.equal(resolveLevel('warn', { TAPVPN_LOG_LEVEL: 'trace', TAPVPN_DEBUG: '1' }), 'trace');
  const out = capture();
  const log = createLogger('t', { pretty: false, level: 'warn', destination: out.stream as never });
  if (!process.env.TAPVPN_LOG_LEVEL && !process.env.TAPVPN_DEBUG) {
    log.info('hidden');
    log.warn('shown');
    assert.deepEqual(out.lines().map((l) => l.msg), ['shown']);
  }
});
