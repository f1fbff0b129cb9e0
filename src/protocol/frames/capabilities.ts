/**
 * What an initiator can do beyond version 1, sent in the REQUEST body's
 * clientData (docs/PROTOCOL.md "REQUEST"): servers that predate it ignore
 * clientData, so offering a capability never costs an old server's refusal
 * (its request flags are checked strictly, clientData is not). The server
 * answers with a RESPONSE flag, which it sets only for an initiator that
 * offered, so an old initiator never sees a flag it does not know.
 *
 * clientData: TLVs `type u8, length u8, value`; unknown types are skipped.
 * Type 1 CAPABILITIES, length ≥ 1: bit 0 of the first byte OFFLOAD (DATA may
 * carry TCP super-frames with a GSO descriptor, both ways).
 */

const TLV_CAPABILITIES = 1;
export const CAPABILITY_OFFLOAD = 0x01;

export interface Capabilities {
  offload: boolean;
}

export function encodeCapabilities(capabilities: Capabilities): Uint8Array {
  return Uint8Array.of(TLV_CAPABILITIES, 1, capabilities.offload ? CAPABILITY_OFFLOAD : 0);
}

/**
 * The capabilities a REQUEST's clientData offers. Lenient by design: a
 * malformed or truncated list offers nothing (the tunnel then runs plain
 * version 1), it never refuses the client.
 */
export function decodeCapabilities(clientData: Uint8Array): Capabilities {
  const none = { offload: false };
  let at = 0;
  while (at + 2 <= clientData.length) {
    const type = clientData[at]!;
    const length = clientData[at + 1]!;
    if (at + 2 + length > clientData.length) return none;
    if (type === TLV_CAPABILITIES && length >= 1) return { offload: (clientData[at + 2]! & CAPABILITY_OFFLOAD) !== 0 };
    at += 2 + length;
  }
  return none;
}
