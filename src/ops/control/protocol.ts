/**
 * The control protocol spoken on a daemon's Unix socket (docs/OPERATIONS.md):
 * newline-delimited JSON, one request line answered by one response line,
 * any number per connection.
 *
 *   → {"v":1,"id":7,"command":"status"}
 *   ← {"v":1,"id":7,"ok":true,"result":{...}}
 *   ← {"v":1,"id":7,"ok":false,"error":{"code":"UNKNOWN_COMMAND","message":"..."}}
 *
 * `id` is optional and echoed (a string or a number); `args` is an optional
 * object for commands that take arguments. Pure: no I/O here.
 */

export const CONTROL_VERSION = 1;
/** A request line longer than this is refused (and the connection closed): no command needs more. */
export const MAX_REQUEST_BYTES = 4096;
/** Responses carry a status snapshot: bounded by the number of configured clients, not by requests. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export type ControlErrorCode = 'BAD_REQUEST' | 'UNSUPPORTED_VERSION' | 'UNKNOWN_COMMAND' | 'REQUEST_TOO_LARGE' | 'INTERNAL_ERROR';

export type RequestId = string | number;

export interface ControlRequest {
  id?: RequestId;
  command: string;
  args: Record<string, unknown>;
}

export type ControlResponse =
  | { v: typeof CONTROL_VERSION; id?: RequestId; ok: true; result: unknown }
  | { v: typeof CONTROL_VERSION; id?: RequestId; ok: false; error: { code: ControlErrorCode; message: string } };

export type ParsedRequest = { ok: true; request: ControlRequest } | { ok: false; id?: RequestId; code: ControlErrorCode; message: string };

const COMMAND_NAME = /^[a-z][a-z0-9-]{0,31}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: Record<string, unknown>): RequestId | undefined {
  const id = value.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

/** Parses one request line (without its newline). */
export function parseRequest(line: string): ParsedRequest {
  if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return { ok: false, code: 'REQUEST_TOO_LARGE', message: `expected a request line of at most ${MAX_REQUEST_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, code: 'BAD_REQUEST', message: 'expected one JSON object per line, like {"v":1,"command":"status"}; got text that is not JSON' };
  }
  if (!isRecord(value)) return { ok: false, code: 'BAD_REQUEST', message: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  const id = idOf(value);
  const at = id === undefined ? {} : { id };
  if (value.id !== undefined && id === undefined) return { ok: false, code: 'BAD_REQUEST', message: 'expected "id" to be a string or a number' };
  if (value.v !== CONTROL_VERSION) return { ok: false, ...at, code: 'UNSUPPORTED_VERSION', message: `expected "v": ${CONTROL_VERSION}, got ${JSON.stringify(value.v) ?? 'nothing'}` };
  if (typeof value.command !== 'string' || !COMMAND_NAME.test(value.command)) {
    return { ok: false, ...at, code: 'BAD_REQUEST', message: 'expected "command": a lower-case name like "status"' };
  }
  if (value.args !== undefined && !isRecord(value.args)) return { ok: false, ...at, code: 'BAD_REQUEST', message: 'expected "args" to be an object' };
  return { ok: true, request: { ...at, command: value.command, args: (value.args as Record<string, unknown> | undefined) ?? {} } };
}

export function successLine(id: RequestId | undefined, result: unknown): string {
  return `${JSON.stringify({ v: CONTROL_VERSION, ...(id === undefined ? {} : { id }), ok: true, result })}\n`;
}

export function errorLine(id: RequestId | undefined, code: ControlErrorCode, message: string): string {
  return `${JSON.stringify({ v: CONTROL_VERSION, ...(id === undefined ? {} : { id }), ok: false, error: { code, message } })}\n`;
}

export function requestLine(command: string, id?: RequestId, args?: Record<string, unknown>): string {
  return `${JSON.stringify({ v: CONTROL_VERSION, ...(id === undefined ? {} : { id }), command, ...(args ? { args } : {}) })}\n`;
}

/** Parses a response line (the `tapvpn status` side); a string is what was wrong with it. */
export function parseResponse(line: string): ControlResponse | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'the daemon answered with text that is not JSON';
  }
  if (!isRecord(value) || value.v !== CONTROL_VERSION || typeof value.ok !== 'boolean') return `expected a version ${CONTROL_VERSION} response object`;
  if (value.ok) return value as ControlResponse;
  const error = value.error;
  if (!isRecord(error) || typeof error.code !== 'string' || typeof error.message !== 'string') return 'expected an error object with code and message';
  return value as ControlResponse;
}
