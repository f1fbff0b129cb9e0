/**
 * Private key files (src/io/key-file.ts): created 0600, never overwritten,
 * refused when readable by others, owned by another user, or in a directory
 * (or under one) that another user could replace it in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeKey, generatePrivateKey, KeyError } from '../../../src/crypto/keys.js';
import { directoryProblem, ownerProblem, readPrivateKeyFile, writePrivateKeyFile } from '../../../src/io/key-file.js';

function keyError(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof KeyError, `expected KeyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tvt-keys-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writePrivateKeyFile creates mode 0600, readPrivateKeyFile reads it back', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'server.key');
    const key = generatePrivateKey();
    await writePrivateKeyFile(file, key);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), `${encodeKey(key)}\n`);
    assert.deepEqual(await readPrivateKeyFile(file), key);
  });
});

test('writePrivateKeyFile creates 0600 whatever the umask', async () => {
  await withDir(async (dir) => {
    const old = process.umask(0);
    try {
      const file = join(dir, 'k');
      await writePrivateKeyFile(file, generatePrivateKey());
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      process.umask(old);
    }
  });
});

test('writePrivateKeyFile refuses to overwrite an existing file (or follow a link)', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'server.key');
    await writeFile(file, 'precious\n');
    await assert.rejects(writePrivateKeyFile(file, generatePrivateKey()), keyError('EXISTS', /already exists: not overwriting/));
    assert.equal(await readFile(file, 'utf8'), 'precious\n');
    const link = join(dir, 'link.key');
    await symlink(join(dir, 'elsewhere'), link);
    await assert.rejects(writePrivateKeyFile(link, generatePrivateKey()), (error: unknown) => error instanceof KeyError);
  });
});

test('readPrivateKeyFile refuses a 0644 file with the chmod hint', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'server.key');
    await writePrivateKeyFile(file, generatePrivateKey());
    await chmod(file, 0o644);
    await assert.rejects(readPrivateKeyFile(file), keyError('INSECURE_MODE', new RegExp(`mode 0644.*fix with: chmod 600 ${file}$`)));
    for (const mode of [0o640, 0o604, 0o601, 0o610]) {
      await chmod(file, mode);
      await assert.rejects(readPrivateKeyFile(file), keyError('INSECURE_MODE', /chmod 600/));
    }
    await chmod(file, 0o400);
    assert.equal((await readPrivateKeyFile(file)).length, 32, '0400 is fine');
  });
});

test('readPrivateKeyFile: a missing file hints at genkey; a directory, a link, garbage are refused', async () => {
  await withDir(async (dir) => {
    const missing = join(dir, 'nope.key');
    await assert.rejects(readPrivateKeyFile(missing), keyError('UNREADABLE', new RegExp(`tapvpn genkey --out ${missing}`)));
    await assert.rejects(readPrivateKeyFile(dir), (error: unknown) => error instanceof KeyError && (error.code === 'NOT_A_FILE' || error.code === 'INSECURE_MODE'));
    const real = join(dir, 'real.key');
    await writePrivateKeyFile(real, generatePrivateKey());
    const link = join(dir, 'link.key');
    await symlink(real, link);
    await assert.rejects(readPrivateKeyFile(link), keyError('UNREADABLE', /symbolic link/));
    const garbage = join(dir, 'garbage.key');
    await writeFile(garbage, 'not a key at all\n', { mode: 0o600 });
    await assert.rejects(readPrivateKeyFile(garbage), (error: unknown) => error instanceof KeyError && error.code === 'BAD_KEY' && error.message.startsWith(garbage) && !error.message.includes('not a key'));
    const big = join(dir, 'big.key');
    await writeFile(big, 'A'.repeat(4096), { mode: 0o600 });
    await assert.rejects(readPrivateKeyFile(big), keyError('BAD_KEY', /too large/));
  });
});

const ANOTHER_UID = 4242;
const asRoot = { skip: process.geteuid?.() !== 0 ? 'chown to another user needs root' : false };

test('ownerProblem / directoryProblem: ours or root only; no group/other write unless sticky', () => {
  assert.equal(ownerProblem({ uid: 1000 }, 1000), undefined);
  assert.equal(ownerProblem({ uid: 0 }, 1000), undefined, 'root-owned is fine for any user');
  assert.equal(ownerProblem({ uid: 1001 }, 1000), 'owned by uid 1001, not by this user (uid 1000) or root');
  assert.equal(directoryProblem({ uid: 0, mode: 0o40755 }, 1000), undefined);
  assert.equal(directoryProblem({ uid: 0, mode: 0o41777 }, 1000), undefined, 'sticky, like /tmp');
  assert.equal(directoryProblem({ uid: 1000, mode: 0o40775 }, 1000), 'writable by group or others (mode 0775)');
  assert.equal(directoryProblem({ uid: 1000, mode: 0o40757 }, 1000), 'writable by group or others (mode 0757)');
  assert.match(directoryProblem({ uid: 1001, mode: 0o40700 }, 1000)!, /owned by uid 1001/);
});

test('readPrivateKeyFile refuses a key in a directory others may write, and under one, with the chmod hint', async () => {
  await withDir(async (dir) => {
    const keys = join(dir, 'keys');
    await mkdir(keys, { mode: 0o700 });
    const file = join(keys, 'server.key');
    await writePrivateKeyFile(file, generatePrivateKey());
    await chmod(keys, 0o777);
    await assert.rejects(readPrivateKeyFile(file), keyError('INSECURE_DIRECTORY', new RegExp(`directory ${keys} is writable by group or others \\(mode 0777\\).*fix with: chmod go-w ${keys}`)));
    await chmod(keys, 0o1777);
    assert.equal((await readPrivateKeyFile(file)).length, 32, 'a sticky directory is fine');
    await chmod(keys, 0o700);
    await chmod(dir, 0o770);
    await assert.rejects(readPrivateKeyFile(file), keyError('INSECURE_DIRECTORY', new RegExp(`directory ${dir} is writable`)), 'an ancestor counts too');
    await chmod(dir, 0o700);
    assert.equal((await readPrivateKeyFile(file)).length, 32);
  });
});

test('readPrivateKeyFile refuses a key file another user owns, with the chown hint', asRoot, async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'server.key');
    await writePrivateKeyFile(file, generatePrivateKey());
    await chown(file, ANOTHER_UID, ANOTHER_UID);
    await assert.rejects(readPrivateKeyFile(file), keyError('INSECURE_OWNER', new RegExp(`owned by uid ${ANOTHER_UID}.*fix with: chown 0 ${file}$`)));
    await chown(file, 0, 0);
    assert.equal((await readPrivateKeyFile(file)).length, 32);
  });
});

test('readPrivateKeyFile refuses a key in a directory another user owns', asRoot, async () => {
  await withDir(async (dir) => {
    const keys = join(dir, 'keys');
    await mkdir(keys, { mode: 0o700 });
    const file = join(keys, 'server.key');
    await writePrivateKeyFile(file, generatePrivateKey());
    await chown(keys, ANOTHER_UID, ANOTHER_UID);
    await assert.rejects(readPrivateKeyFile(file), keyError('INSECURE_DIRECTORY', new RegExp(`directory ${keys} is owned by uid ${ANOTHER_UID}.*fix with: chown 0 ${keys}`)));
  });
});
