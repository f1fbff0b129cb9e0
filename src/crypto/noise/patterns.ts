/**
 * Handshake patterns (Noise spec rev 34 §7) as data for HandshakeState:
 * the pre-messages and the token sequence of each message. Only the ones the
 * tunnel can use: IK (one round trip, the initiator knows the responder's
 * static key) and IKpsk2 (IK plus a pre-shared key mixed in at the end of
 * message 2, §9 — WireGuard's pattern).
 */

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

export interface HandshakePattern {
  readonly name: string;
  /** Public keys known before the handshake: the initiator's ("->") and the responder's ("<-"). */
  readonly preMessages: { readonly initiator: readonly ('e' | 's')[]; readonly responder: readonly ('e' | 's')[] };
  /** messages[0] is written by the initiator, then they alternate. */
  readonly messages: readonly (readonly Token[])[];
}

/**
 * IK:
 *   <- s
 *   ...
 *   -> e, es, s, ss
 *   <- e, ee, se
 */
export const IK: HandshakePattern = {
  name: 'IK',
  preMessages: { initiator: [], responder: ['s'] },
  messages: [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se'],
  ],
};

/** IKpsk2: IK with "psk" appended to the second message (§9.4). */
export const IKpsk2: HandshakePattern = {
  name: 'IKpsk2',
  preMessages: IK.preMessages,
  messages: [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se', 'psk'],
  ],
};

export function usesPsk(pattern: HandshakePattern): boolean {
  return pattern.messages.some((tokens) => tokens.includes('psk'));
}
