/**
 * The carrier TCP socket's kernel queues, sized from QueueingSettings:
 * TCP_NOTSENT_LOWAT (unsent bytes the kernel may hold), SO_SNDBUF and
 * SO_RCVBUF. Node exposes none of them, so they go through the TAP addon's
 * setSocketOption on the socket's fd (Node's TCP handle exposes it as
 * `_handle.fd`; it exists once the socket is connected).
 */
import type { Socket } from 'node:net';
import { loadTapBinding } from '../../adapter/native-binding.js';
import type { QueueingSettings } from './queueing.js';

type CarrierSettings = Pick<QueueingSettings, 'notsentLowatBytes' | 'sndbufBytes' | 'rcvbufBytes'>;

/** Sets the non-zero options on `socket` now, or once it has connected; errors go to `onError` (the socket keeps the kernel's defaults). */
export function applyCarrierOptions(socket: Socket, settings: CarrierSettings, onError: (error: Error) => void = () => undefined): void {
  const options = [
    ['TCP_NOTSENT_LOWAT', settings.notsentLowatBytes],
    ['SO_SNDBUF', settings.sndbufBytes],
    ['SO_RCVBUF', settings.rcvbufBytes],
  ] as const;
  const wanted = options.filter(([, value]) => value > 0);
  if (wanted.length === 0) return;
  const apply = (): void => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return onError(new Error('carrier socket has no file descriptor: its queue sizes stay the kernel defaults'));
    try {
      const binding = loadTapBinding();
      for (const [name, value] of wanted) binding.setSocketOption(fd, name, value);
    } catch (error) {
      onError(error as Error);
    }
  };
  if (socket.connecting) socket.once('connect', apply);
  else apply();
}
