/**
 * HandshakeState (Noise spec rev 34 §5.3): runs any pattern from patterns.ts
 * token by token with the spec's names — s, e, rs, re, psk —, over the
 * DH "25519", the cipher "ChaChaPoly" and a hash of the caller's choice.
 *
 * Guarantees: messages are processed strictly in the pattern's order (a
 * write or read out of turn throws BAD_STATE); a message shorter than its
 * tokens need throws BAD_LENGTH before any state changes; a message that
 * fails to authenticate throws CipherError/DhError, after which this
 * HandshakeState must be discarded (§5.3: "abort the handshake").
 */
import { TAGLEN } from './cipher.js';
import { CipherState } from './cipher-state.js';
import { DH, DHLEN, generateKeypair, type KeyPair } from './dh.js';
import type { HashFunction } from './hash.js';
import { usesPsk, type HandshakePattern, type Token } from './patterns.js';
import { SymmetricState } from './symmetric-state.js';

export const PSKLEN = 32;

export class HandshakeStateError extends Error {
  override readonly name = 'HandshakeStateError';
  constructor(
    readonly code: 'BAD_LENGTH' | 'BAD_STATE',
    message: string,
  ) {
    super(message);
  }
}

export interface HandshakeStateOptions {
  pattern: HandshakePattern;
  hash: HashFunction;
  initiator: boolean;
  prologue: Uint8Array;
  /** The local static key pair. */
  s?: KeyPair;
  /** A fixed local ephemeral key pair: for published test vectors only. */
  e?: KeyPair;
  /** The remote static public key, when known in advance (IK's initiator). */
  rs?: Uint8Array;
  re?: Uint8Array;
  psk?: Uint8Array;
}

export interface HandshakeResult {
  /** Split(): [initiator→responder, responder→initiator]. */
  cipherStates: [CipherState, CipherState];
  handshakeHash: Uint8Array;
}

export class HandshakeState {
  readonly symmetricState: SymmetricState;
  readonly initiator: boolean;
  readonly #pattern: HandshakePattern;
  readonly #psk: Uint8Array | undefined;
  readonly #s: KeyPair | undefined;
  #e: KeyPair | undefined;
  rs: Uint8Array | undefined;
  re: Uint8Array | undefined;
  #messageIndex = 0;
  #result: HandshakeResult | undefined;

  /** Initialize(handshake_pattern, initiator, prologue, s, e, rs, re, psk). */
  constructor(options: HandshakeStateOptions) {
    const { pattern } = options;
    if (usesPsk(pattern) !== (options.psk !== undefined)) throw new HandshakeStateError('BAD_STATE', `pattern ${pattern.name} ${usesPsk(pattern) ? 'needs' : 'takes no'} pre-shared key`);
    if (options.psk && options.psk.length !== PSKLEN) throw new HandshakeStateError('BAD_LENGTH', `pre-shared key: expected ${PSKLEN} bytes, got ${options.psk.length}`);
    this.#pattern = pattern;
    this.#psk = options.psk;
    this.initiator = options.initiator;
    this.#s = options.s;
    this.#e = options.e;
    this.rs = options.rs;
    this.re = options.re;
    this.symmetricState = new SymmetricState(options.hash, `Noise_${pattern.name}_25519_ChaChaPoly_${options.hash.name}`);
    this.symmetricState.mixHash(options.prologue);
    // Pre-messages: the initiator's keys first, then the responder's (§7.1).
    for (const token of pattern.preMessages.initiator) this.symmetricState.mixHash(this.#preMessageKey(token, this.initiator));
    for (const token of pattern.preMessages.responder) this.symmetricState.mixHash(this.#preMessageKey(token, !this.initiator));
  }

  /** The result of the last message: Split() and the handshake hash. */
  get result(): HandshakeResult | undefined {
    return this.#result;
  }

  /** True when it is our turn to write (false: to read). */
  get isMyTurn(): boolean {
    return (this.#messageIndex % 2 === 0) === this.initiator;
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    const tokens = this.#nextTokens(true);
    const parts: Uint8Array[] = [];
    for (const token of tokens) {
      if (token === 'e') {
        this.#e ??= generateKeypair();
        parts.push(this.#e.publicKey);
        this.#mixEphemeral(this.#e.publicKey);
      } else if (token === 's') {
        parts.push(this.symmetricState.encryptAndHash(this.#need(this.#s, 's').publicKey));
      } else {
        this.#mixToken(token);
      }
    }
    parts.push(this.symmetricState.encryptAndHash(payload));
    this.#advance();
    return concat(parts);
  }

  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.#nextTokens(false);
    this.#checkLength(tokens, message.length);
    let at = 0;
    for (const token of tokens) {
      if (token === 'e') {
        this.re = message.slice(at, at + DHLEN);
        at += DHLEN;
        this.#mixEphemeral(this.re);
      } else if (token === 's') {
        const length = this.symmetricState.cipherState.hasKey() ? DHLEN + TAGLEN : DHLEN;
        this.rs = this.symmetricState.decryptAndHash(message.subarray(at, at + length)).slice();
        at += length;
      } else {
        this.#mixToken(token);
      }
    }
    const payload = this.symmetricState.decryptAndHash(message.subarray(at));
    this.#advance();
    return payload;
  }

  #preMessageKey(token: 'e' | 's', local: boolean): Uint8Array {
    if (token === 'e') return local ? this.#need(this.#e, 'e').publicKey : this.#need(this.re, 're');
    return local ? this.#need(this.#s, 's').publicKey : this.#need(this.rs, 'rs');
  }

  /** "e": MixHash(e.public_key), and in a psk handshake also MixKey(e.public_key) (§9.2). */
  #mixEphemeral(publicKey: Uint8Array): void {
    this.symmetricState.mixHash(publicKey);
    if (this.#psk) this.symmetricState.mixKey(publicKey);
  }

  /** "ee", "es", "se", "ss" and "psk". */
  #mixToken(token: Exclude<Token, 'e' | 's'>): void {
    const ss = this.symmetricState;
    const e = () => this.#need(this.#e, 'e');
    const s = () => this.#need(this.#s, 's');
    const re = () => this.#need(this.re, 're');
    const rs = () => this.#need(this.rs, 'rs');
    switch (token) {
      case 'ee': return ss.mixKey(DH(e(), re()));
      case 'es': return ss.mixKey(this.initiator ? DH(e(), rs()) : DH(s(), re()));
      case 'se': return ss.mixKey(this.initiator ? DH(s(), re()) : DH(e(), rs()));
      case 'ss': return ss.mixKey(DH(s(), rs()));
      case 'psk': return ss.mixKeyAndHash(this.#need(this.#psk, 'psk'));
    }
  }

  #nextTokens(writing: boolean): readonly Token[] {
    const tokens = this.#pattern.messages[this.#messageIndex];
    if (!tokens) throw new HandshakeStateError('BAD_STATE', `the ${this.#pattern.name} handshake is already complete`);
    if (this.isMyTurn !== writing) throw new HandshakeStateError('BAD_STATE', `message ${this.#messageIndex + 1} is ours to ${writing ? 'read' : 'write'}, not to ${writing ? 'write' : 'read'}`);
    return tokens;
  }

  /** Checks a received message is long enough for its tokens and the payload's tag, before anything is mixed. */
  #checkLength(tokens: readonly Token[], length: number): void {
    let keyed = this.symmetricState.cipherState.hasKey();
    let needed = 0;
    for (const token of tokens) {
      if (token === 'e') {
        needed += DHLEN;
        if (this.#psk) keyed = true; // "e" also runs MixKey in a psk handshake
      } else if (token === 's') needed += keyed ? DHLEN + TAGLEN : DHLEN;
      if (token === 'ee' || token === 'es' || token === 'se' || token === 'ss' || token === 'psk') keyed = true;
    }
    if (keyed) needed += TAGLEN;
    if (length < needed) throw new HandshakeStateError('BAD_LENGTH', `message ${this.#messageIndex + 1}: expected at least ${needed} bytes, got ${length}`);
  }

  #advance(): void {
    this.#messageIndex++;
    if (this.#messageIndex === this.#pattern.messages.length) {
      this.#result = { cipherStates: this.symmetricState.split(), handshakeHash: this.symmetricState.getHandshakeHash() };
    }
  }

  #need<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new HandshakeStateError('BAD_STATE', `the ${this.#pattern.name} handshake needs "${what}" here but has none`);
    return value;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
