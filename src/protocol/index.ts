/**
 * The tunnel protocol (docs/PROTOCOL.md): frame codecs, the stream decoder,
 * the DATA engine and the initiator/server/relay state machines. Pure: no I/O.
 */
export * from './frames/index.js';
export * from './decoder.js';
export * from './prologue.js';
export * from './session.js';
export * from './machines/index.js';
