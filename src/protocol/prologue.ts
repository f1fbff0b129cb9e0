/**
 * The Noise prologue the tunnel binds into every handshake (docs/PROTOCOL.md):
 * "tapvpn/1" ‖ RELAY frame ‖ destinationLength ‖ destination. Binding the path
 * and destination means a relay that rewrote either breaks the handshake
 * instead of silently redirecting it.
 */
const PROLOGUE_LABEL = new TextEncoder().encode('tapvpn/1');

export function handshakePrologue(relayFrame: Uint8Array, destination: string): Uint8Array {
  const out = new Uint8Array(PROLOGUE_LABEL.length + relayFrame.length + 1 + destination.length);
  out.set(PROLOGUE_LABEL, 0);
  out.set(relayFrame, PROLOGUE_LABEL.length);
  let at = PROLOGUE_LABEL.length + relayFrame.length;
  out[at++] = destination.length;
  for (let i = 0; i < destination.length; i++) out[at + i] = destination.charCodeAt(i);
  return out;
}
