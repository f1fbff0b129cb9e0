/** The tunnel frame codecs (docs/PROTOCOL.md), one module per frame type. */
export * from './limits.js';
export * from './close-codes.js';
export * from './errors.js';
export * from './header.js';
export * from './names.js';
export * from './relay.js';
export * from './request.js';
export * from './cookie.js';
export * from './response.js';
export * from './data.js';
export * from './close.js';
export * from './sealed-control.js';
export * from './sealed-close.js';
export * from './keepalive.js';
export * from './rekey.js';
export * from './lease-codec.js';
export * from './capabilities.js';
