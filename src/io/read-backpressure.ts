/**
 * Back-pressure from the carrier to the TAP: while more than `thresholdBytes`
 * wait in user space for the socket, stop reading the device; resume once the
 * socket has drained (or closed). The kernel then keeps the backlog in the
 * TAP's ring (txqueuelen frames) and tail-drops beyond it, so the TCP senders
 * inside the tunnel see loss at a bounded queue instead of a growing one.
 * For a device that serves one carrier (the client's TAP); a device shared by
 * many carriers (the server's) must not be paused for one slow peer.
 */
import type { Socket } from 'node:net';

export interface PausableDevice {
  setReading(on: boolean): void;
}

export class ReadBackpressure {
  #paused = false;
  pauses = 0;

  constructor(
    private readonly device: PausableDevice,
    private readonly thresholdBytes: number,
  ) {}

  get paused(): boolean {
    return this.#paused;
  }

  /** Call after queueing on `socket`: pauses the device's reads when the socket is behind. */
  check(socket: Socket | undefined): void {
    // At or above the socket's high-water mark, so that a write() returned false and 'drain' will follow.
    if (this.#paused || !socket || socket.writableLength <= Math.max(this.thresholdBytes, socket.writableHighWaterMark)) return;
    this.#paused = true;
    this.pauses++;
    this.device.setReading(false);
    const resume = (): void => {
      socket.off('drain', resume);
      socket.off('close', resume);
      this.#paused = false;
      this.device.setReading(true);
    };
    socket.on('drain', resume);
    socket.on('close', resume);
  }
}
