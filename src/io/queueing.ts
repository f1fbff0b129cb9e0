/**
 * Where the tunnel's queues sit and how big they may grow: the knobs behind
 * latency under load (issue 13, docs/PERFORMANCE.md "Latency under load").
 *
 * A datagram waiting to be carried can sit in four places: the TAP's ring
 * (txqueuelen frames; on the kernels we run on, a qdisc in front of a TAP
 * never holds anything — the ring tail-drops), our user-space send queue
 * (bounded: over it we drop before sealing), the carrier socket's unsent bytes
 * (TCP_NOTSENT_LOWAT bounds them) and its in-flight bytes (SO_SNDBUF and the
 * peer's SO_RCVBUF bound them). Every byte queued is latency for everything
 * behind it, and TCP senders inside the tunnel fill whatever is there.
 *
 * The defaults below are the measured choice; TAPVPN_QUEUEING overrides them
 * for experiments and benchmarks (bench/vpn-bench.ts --levers), e.g.
 *   TAPVPN_QUEUEING="txqueuelen=256,send_queue=262144,notsent_lowat=131072,backpressure=1"
 */

export interface QueueingSettings {
  /** The TAP's txqueuelen: frames the kernel holds for our read() (and, while reads are paused, the standing queue). */
  txqueuelen: number;
  /** User-space bound on bytes waiting for the carrier socket; over it, datagrams are dropped before sealing. */
  sendQueueBytes: number;
  /** TCP_NOTSENT_LOWAT on the carrier: at most this many unsent bytes in the kernel (0: the kernel's default, unbounded). */
  notsentLowatBytes: number;
  /** SO_SNDBUF on the carrier (0: kernel autotuning). */
  sndbufBytes: number;
  /** SO_RCVBUF on the carrier (0: kernel autotuning). */
  rcvbufBytes: number;
  /**
   * Client: stop reading the TAP while the carrier is behind (more than
   * `backpressureBytes` queued in user space), resume when it has drained; the
   * TAP's ring then holds the backlog and tail-drops, instead of our queue.
   */
  backpressure: boolean;
  /** User-space queued bytes at which reads pause (backpressure on). */
  backpressureBytes: number;
  /**
   * TCP super-frames (TAP offload and the OFFLOAD capability) where the
   * config allows them; false turns them off whatever the config says.
   */
  offload: boolean;
  /**
   * The TAP's txqueuelen when it carries super-frames: the ring counts frames,
   * and each may be 64 KiB, so it must be far shorter than `txqueuelen`
   * (4 × ~60 KB ≈ 240 KB, less than the 360 KB 256 frames of 1400 B held).
   * Measured against 8 (docs/PERFORMANCE.md, 2026-12-02 run D): lower loaded
   * RTT client→server and higher throughput.
   */
  offloadTxqueuelen: number;
  /**
   * With offload: the largest super-frame the host may hand the TAP
   * (`ip link set gso_max_size`; 0: the kernel's 64 KiB). Every frame in the
   * TAP's ring may be this big, so ring bytes = txqueuelen × this at worst.
   */
  gsoMaxSize: number;
}

/**
 * Chosen from two interleaved runs (docs/PERFORMANCE.md "Latency under load",
 * 2026-12-01, both on a CPU-starved shared machine): a short TAP ring and the
 * client pausing its TAP reads while the carrier is behind gave the lowest
 * loaded RTT in both runs (256 frames is ~360 KB, ~4 ms at 770 Mbit/s; the
 * 4,096 frames before held ~95 ms at 480); at most 128 KiB unsent in the
 * carrier's kernel buffer and 256 KiB in ours cut server→client RTT by a
 * third. The throughput effect of back-pressure went opposite ways in the two
 * runs (noise); `TAPVPN_QUEUEING="txqueuelen=512,backpressure=0"` is the
 * runner-up if a quiet run shows a cost.
 */
export const DEFAULT_QUEUEING: Readonly<QueueingSettings> = Object.freeze({
  txqueuelen: 256,
  sendQueueBytes: 256 * 1024,
  notsentLowatBytes: 128 * 1024,
  sndbufBytes: 0,
  rcvbufBytes: 0,
  backpressure: true,
  backpressureBytes: 64 * 1024,
  offload: true,
  offloadTxqueuelen: 4,
  gsoMaxSize: 0,
});

const KEYS: Record<string, keyof QueueingSettings> = {
  txqueuelen: 'txqueuelen',
  send_queue: 'sendQueueBytes',
  notsent_lowat: 'notsentLowatBytes',
  sndbuf: 'sndbufBytes',
  rcvbuf: 'rcvbufBytes',
  backpressure: 'backpressure',
  backpressure_bytes: 'backpressureBytes',
  offload: 'offload',
  offload_txqueuelen: 'offloadTxqueuelen',
  gso_max_size: 'gsoMaxSize',
};
const MAX_SETTING = 1 << 30;

export class QueueingConfigError extends Error {
  override readonly name = 'QueueingConfigError';
  readonly code = 'BAD_QUEUEING';
}

/** Parses "key=value,key=value" over the defaults; throws a QueueingConfigError naming the bad entry and the accepted keys. */
export function parseQueueing(text: string | undefined, base: Readonly<QueueingSettings> = DEFAULT_QUEUEING): QueueingSettings {
  const settings: QueueingSettings = { ...base };
  for (const entry of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value, extra] = entry.split('=').map((s) => s.trim());
    const field = key === undefined ? undefined : KEYS[key];
    if (!field || value === undefined || extra !== undefined) {
      throw new QueueingConfigError(`TAPVPN_QUEUEING: "${entry}" is not key=value with a key among ${Object.keys(KEYS).join(', ')}`);
    }
    const number = Number(value);
    const flag = field === 'backpressure' || field === 'offload';
    if (!/^\d+$/.test(value) || number > MAX_SETTING || ((field === 'txqueuelen' || field === 'offloadTxqueuelen') && number < 1) || (flag && number > 1)) {
      const expected = flag ? '0 or 1' : field === 'txqueuelen' || field === 'offloadTxqueuelen' ? `an integer 1..${MAX_SETTING}` : `an integer 0..${MAX_SETTING}`;
      throw new QueueingConfigError(`TAPVPN_QUEUEING: ${key} must be ${expected}, got "${value}"`);
    }
    if (field === 'backpressure' || field === 'offload') settings[field] = number === 1;
    else settings[field] = number;
  }
  return settings;
}

/** The settings this process runs with: the defaults, overridden by TAPVPN_QUEUEING. */
export function queueingFromEnvironment(env: NodeJS.ProcessEnv = process.env): QueueingSettings {
  return parseQueueing(env.TAPVPN_QUEUEING);
}

/** This process's settings, read once: TAPVPN_QUEUEING is checked at start-up, not per connection. */
export const processQueueing: Readonly<QueueingSettings> = Object.freeze(queueingFromEnvironment());
