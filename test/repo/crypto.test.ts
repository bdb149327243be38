/**
 * Sealing as format.md defines it (nonce || AES-256-GCM ciphertext || tag, the object kind as
 * associated data), whichever AES-GCM does the work: the addon (native/gcm.c) and Node's Cipher
 * must produce and accept exactly the same bytes. The addon is built by `npm ci`; this suite
 * fails, rather than skips, when it is missing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { GCM_IMPLEMENTATION, open, openInto, seal, SEAL_OVERHEAD } from '../../src/repo/crypto.js';
import { IntegrityError } from '../../src/repo/errors.js';

const KEY = randomBytes(32);
const CRYPTO_MODULE = fileURLToPath(new URL('../../src/repo/crypto.js', import.meta.url));

/** Seals with Node's Cipher directly, as format.md says. */
function referenceSeal(key: Buffer, aad: string, plaintext: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function referenceOpen(key: Buffer, aad: string, sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** Runs crypto.ts in a child process without the addon: `code` sees it as `c` and `input` (hex) as `data`; returns what it prints. */
function withoutAddon(code: string, input = ''): string {
  const script = `let data = ''; process.stdin.on('data', (d) => (data += d)).on('end', () => import('${CRYPTO_MODULE}').then((c) => { data = Buffer.from(data, 'hex'); ${code} }))`;
  return execFileSync(process.execPath, ['-e', script], { env: { ...process.env, LIFEBOAT_NO_NATIVE: '1' }, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

describe('sealing', () => {
  it('uses the AES-GCM addon that npm ci builds', () => {
    assert.equal(GCM_IMPLEMENTATION, 'native', 'build/Release/lifeboat_native.node is missing: run "npm ci" (it needs make and a C compiler)');
  });

  for (const size of [0, 1, 65_535, 65_536, 4 * 1024 * 1024 + 3]) {
    it(`writes and reads format.md's bytes for ${size} bytes of plaintext`, () => {
      const plaintext = randomBytes(size);
      const sealed = seal(KEY, 'blob', plaintext);
      assert.equal(sealed.length, size + SEAL_OVERHEAD);
      assert.ok(referenceOpen(KEY, 'lifeboat/blob', sealed).equals(plaintext), 'Node opens what we seal');
      assert.ok(open(KEY, 'blob', referenceSeal(KEY, 'lifeboat/blob', plaintext), 'blob x').equals(plaintext), 'we open what Node seals');
      const into = Buffer.alloc(size + 10, 0xaa);
      assert.equal(openInto(KEY, 'blob', sealed, into, 'blob x'), size);
      assert.ok(into.subarray(0, size).equals(plaintext) && into.subarray(size).every((b) => b === 0xaa), 'openInto writes exactly the plaintext');
    });
  }

  it('refuses a changed byte anywhere, another kind, and another key', () => {
    const sealed = seal(KEY, 'index', randomBytes(1000));
    for (const at of [0, 11, 12, 500, sealed.length - 17, sealed.length - 1]) {
      const damaged = Buffer.from(sealed);
      damaged[at] ^= 0x01;
      assert.throws(() => open(KEY, 'index', damaged, 'index i1'), (err: unknown) => err instanceof IntegrityError && /index i1 failed authentication/.test(err.message), `byte ${at}`);
    }
    assert.throws(() => open(KEY, 'snapshot', sealed, 'snapshot s1'), IntegrityError);
    assert.throws(() => open(randomBytes(32), 'index', sealed, 'index i1'), IntegrityError);
    assert.throws(() => open(KEY, 'index', sealed.subarray(0, 20), 'index i1'), (err: unknown) => err instanceof IntegrityError && /truncated/.test(err.message));
  });

  it("without the addon (Node's Cipher) reads and writes the same bytes", () => {
    const plaintext = randomBytes(200_000);
    const key = `Buffer.from('${KEY.toString('hex')}', 'hex')`;
    assert.equal(withoutAddon('console.log(c.GCM_IMPLEMENTATION)'), 'node');
    const opened = withoutAddon(`console.log(c.open(${key}, 'snapshot', data, 's').toString('hex'))`, seal(KEY, 'snapshot', plaintext).toString('hex'));
    assert.equal(opened, plaintext.toString('hex'), 'Node opens what the addon sealed');
    const theirs = withoutAddon(`console.log(c.seal(${key}, 'snapshot', data).toString('hex'))`, plaintext.toString('hex'));
    assert.ok(open(KEY, 'snapshot', Buffer.from(theirs, 'hex'), 's').equals(plaintext), 'the addon opens what Node sealed');
  });
});
