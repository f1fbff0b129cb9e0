/** The protocol state machines (docs/PROTOCOL.md "State machines"). */
export * from './actions.js';
export { InitiatorMachine, DEFAULT_RECONNECT, type InitiatorEvent, type InitiatorOptions, type InitiatorState } from './initiator.js';
export { ServerMachine, type AuthorizeRequest, type AuthorizeResult, type ServerEvent, type ServerOptions, type ServerState } from './server.js';
export { RelayMachine, DEFAULT_MAX_PENDING_BYTES, type RelayEvent, type RelayOptions, type RelayState } from './relay.js';
