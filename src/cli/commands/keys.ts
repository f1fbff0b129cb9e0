/**
 * `tapvpn genkey` and `tapvpn pubkey`, the `wg genkey` / `wg pubkey` pair.
 * A private key goes to stdout only when asked for without --out; with
 * --out it goes to a file created 0600 and stdout gets the public key.
 */
import { decodeKey, encodeKey, generatePrivateKey, publicKeyOf } from '../../crypto/keys.js';
import { readPrivateKeyFile, writePrivateKeyFile } from '../../io/key-file.js';
import type { CliIo } from '../io.js';

export async function genkey(io: CliIo, out: string | undefined): Promise<number> {
  const privateKey = generatePrivateKey();
  if (!out) {
    io.out(encodeKey(privateKey));
    return 0;
  }
  await writePrivateKeyFile(out, privateKey);
  io.err(`wrote a new private key to ${out} (mode 0600); its public key:`);
  io.out(encodeKey(publicKeyOf(privateKey)));
  return 0;
}

export async function pubkey(io: CliIo, input: string | undefined): Promise<number> {
  let privateKey: Uint8Array;
  if (input) {
    privateKey = await readPrivateKeyFile(input);
  } else {
    if (io.stdinIsTty) io.err('reading a private key from stdin (e.g. tapvpn genkey | tapvpn pubkey); Ctrl-D to end');
    privateKey = decodeKey(await io.readStdin(), 'stdin');
  }
  io.out(encodeKey(publicKeyOf(privateKey)));
  return 0;
}
