/**
 * What the three machines share: the current state with a transition log,
 * and the one way out — `close(code)` sends CLOSE (when a connection is up;
 * `closeFrame` decides its form: plain here, sealed once a tunnel endpoint is
 * authorized), emits the close action and enters `dying`. Events that reach
 * `dying` or `dead` are ignored: they were in flight when we decided to close.
 */
import { CloseCode, closeCodeName } from '../frames/close-codes.js';
import { encodeClose } from '../frames/close.js';
import type { Action, Refusal, Side, Transition } from './actions.js';

export const MAX_HISTORY = 64;

export abstract class MachineBase<S extends string, E extends { type: string }> {
  protected stateValue: S;
  readonly history: Transition[] = [];
  /** The code the connection ended with (set when closing). */
  closeCode: number | undefined;
  closeReason = '';
  /** Set when the connection was turned away before carrying a tunnel. */
  refusal: Refusal | undefined;
  /** Initiator: the close being made ends the session for good (no reconnect); reported as the close action's `final`. */
  protected closeIsFinal = false;
  protected dyingSinceMs = 0;

  constructor(initial: S) {
    this.stateValue = initial;
  }

  get state(): S {
    return this.stateValue;
  }

  /**
   * Feeds one event; returns the actions to carry out, in order. Never
   * throws: a bug or an unexpected crypto failure inside a transition closes
   * the connection with INTERNAL_ERROR instead of escaping to the caller.
   */
  handle(event: E, nowMs: number): Action[] {
    const actions: Action[] = [];
    try {
      this.dispatch(event, nowMs, actions);
    } catch (error) {
      if (this.stateValue !== 'dying' && this.stateValue !== 'dead') {
        this.closeOnError(actions, CloseCode.INTERNAL_ERROR, `internal error: ${String(error)}`, nowMs, event.type);
      }
    }
    return actions;
  }

  protected abstract dispatch(event: E, nowMs: number, actions: Action[]): void;

  /** This machine's local close (CLOSE to whichever sides are up). */
  protected abstract closeOnError(actions: Action[], code: number, reason: string, nowMs: number, event: string): void;

  protected go(to: S, event: string): void {
    this.history.push({ from: this.stateValue, to, event });
    if (this.history.length > MAX_HISTORY) this.history.shift();
    this.stateValue = to;
  }

  /**
   * Closes: CLOSE frames to `notify` sides (none when no connection is up),
   * then the close action, through the 'close' state into 'dying'.
   */
  protected closeWith(actions: Action[], code: number, reason: string, nowMs: number, notify: readonly (Side | undefined)[], event: string, closeState: S, dyingState: S, refusal?: Refusal): Action[] {
    this.go(closeState, event);
    this.closeCode = code;
    this.closeReason = reason;
    this.refusal = refusal;
    for (const to of notify) {
      const frame = this.closeFrame(code, reason);
      actions.push(to ? { type: 'send', frame, to } : { type: 'send', frame });
    }
    actions.push(this.closeAction(code, reason, 'local', refusal));
    this.go(dyingState, `sent CLOSE ${closeCodeName(code)}`);
    this.dyingSinceMs = nowMs;
    return actions;
  }

  /** The CLOSE frame we send: plain by default (nothing to seal it with yet). */
  protected closeFrame(code: number, reason: string): Uint8Array {
    return encodeClose({ status: code, reason });
  }

  private closeAction(code: number, reason: string, by: 'local' | 'peer' | 'network', refusal: Refusal | undefined): Action {
    return { type: 'close', code, reason, by, ...(refusal ? { refusal } : {}), ...(this.closeIsFinal ? { final: true } : {}) };
  }

  /** The peer closed (CLOSE frame) or the network did: no CLOSE of ours to send. */
  protected closedBy(actions: Action[], by: 'peer' | 'network', code: number, reason: string, nowMs: number, event: string, dyingState: S, refusal?: Refusal): Action[] {
    this.closeCode = code;
    this.closeReason = reason;
    this.refusal = refusal;
    actions.push(this.closeAction(code, reason, by, refusal));
    this.go(dyingState, event);
    this.dyingSinceMs = nowMs;
    return actions;
  }
}

/** Code and reason for an unexpected event. */
export function illegal(event: string, state: string): { code: number; reason: string } {
  return { code: CloseCode.PROTOCOL_ERROR, reason: `${event} not allowed in state ${state}` };
}
