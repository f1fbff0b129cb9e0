/**
 * The REKEY flood of issue 10 (item 1), timed: an authorized peer sends
 * `count` REKEY frames (default 1,500) and the victim's session opens them;
 * prints the victim's time and the time per REKEY. Frames are paced at the
 * REKEY budget so every one is accepted (the worst case for the victim);
 * unpaced, the victim refuses the peer after the budget. The attacker's own
 * sealing is not counted. `TAPVPN_SRC=/path/to/src` measures another tree.
 *
 *   node --import tsx bench/rekey-flood.ts [count] [suite]
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const src = resolve(process.env.TAPVPN_SRC ?? new URL('../src', import.meta.url).pathname);
const { realCrypto } = await import(pathToFileURL(`${src}/crypto/index.ts`).href);
const { TunnelSession } = await import(pathToFileURL(`${src}/protocol/session.ts`).href);

const count = Number(process.argv[2] ?? 1500);
const suite = process.argv[3] ?? 'aes-256-gcm';
const SPACING_MS = 100; // the REKEY budget's refill interval: every REKEY is accepted

const a = new Uint8Array(randomBytes(32));
const b = new Uint8Array(randomBytes(32));
const h = new Uint8Array(randomBytes(32));
const attacker = new TunnelSession({ crypto: realCrypto, suite, keys: { sendKey: a.slice(), receiveKey: b.slice(), handshakeHash: h }, nowMs: 0, inBandRekey: true });
const victim = new TunnelSession({ crypto: realCrypto, suite, keys: { sendKey: b.slice(), receiveKey: a.slice(), handshakeHash: h }, nowMs: 0, inBandRekey: true });

let victimMs = 0;
let refusedAt: number | undefined;
for (let i = 0; i < count; i++) {
  const frame = attacker.sealRekey(i * SPACING_MS);
  const start = performance.now();
  const error = victim.openRekey(frame, i * SPACING_MS);
  victimMs += performance.now() - start;
  if (error) {
    refusedAt = i;
    break;
  }
}
const accepted = refusedAt ?? count;
console.log(`${suite}: ${count} REKEYs sent, ${accepted} accepted${refusedAt === undefined ? '' : ` (refused at ${refusedAt})`}; victim ${victimMs.toFixed(0)} ms in all, ${((victimMs / accepted) * 1000).toFixed(0)} µs per REKEY`);
