/**
 * The other end of a control socket, for `tapvpn status`: connect, send one
 * request, read one response line (bounded in size and time).
 */
import { connect } from 'node:net';
import { MAX_RESPONSE_BYTES, parseResponse, requestLine, type ControlResponse } from './protocol.js';

export class ControlClientError extends Error {
  override readonly name = 'ControlClientError';
  constructor(
    readonly code: 'NO_DAEMON' | 'PERMISSION' | 'TIMEOUT' | 'BAD_RESPONSE',
    message: string,
  ) {
    super(message);
  }
}

function connectError(path: string, error: NodeJS.ErrnoException): ControlClientError {
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') return new ControlClientError('NO_DAEMON', `no daemon answers on ${path} (${error.code}): is it running, and is control.socket the same in its config?`);
  if (error.code === 'EACCES' || error.code === 'EPERM') return new ControlClientError('PERMISSION', `not allowed to connect to ${path}: run as root or as a member of the control group`);
  if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return new ControlClientError('BAD_RESPONSE', `${path} closed without an answer (${error.code})`);
  return new ControlClientError('NO_DAEMON', `cannot connect to ${path}: ${error.message}`);
}

export function requestControl(path: string, command: string, timeoutMs: number, args?: Record<string, unknown>): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    let text = '';
    let settled = false;
    const done = (error: Error | undefined, response?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    const timer = setTimeout(() => done(new ControlClientError('TIMEOUT', `no answer on ${path} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(requestLine(command, 1, args)));
    socket.on('error', (error: NodeJS.ErrnoException) => done(connectError(path, error)));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_RESPONSE_BYTES) return done(new ControlClientError('BAD_RESPONSE', `answer on ${path} longer than ${MAX_RESPONSE_BYTES} bytes`));
      const end = text.indexOf('\n');
      if (end < 0) return;
      const parsed = parseResponse(text.slice(0, end));
      if (typeof parsed === 'string') done(new ControlClientError('BAD_RESPONSE', `${path}: ${parsed}`));
      else done(undefined, parsed);
    });
    socket.on('close', () => done(new ControlClientError('BAD_RESPONSE', `${path} closed without an answer`)));
  });
}
