/**
 * Authenticated encryption and hashing. Every stored object (and every blob inside a pack) is
 *   nonce (12 random bytes) || AES-256-GCM ciphertext || tag (16 bytes)
 * with associated data naming what the object is ("lifeboat/blob", "lifeboat/index", ...), so an
 * object of one kind can never be passed off as another.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { IntegrityError } from './errors.js';
import { loadNative } from './native.js';

/** OpenSSL's AES-GCM on our buffers when the addon is built (native.ts); Node's Cipher otherwise. */
const native = loadNative();

/** Which AES-GCM this process uses: "native" (the addon) or "node" (Node's Cipher). */
export const GCM_IMPLEMENTATION = native ? 'native' : 'node';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes that sealing adds to a plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** What a sealed object is; bound into the ciphertext as GCM associated data. */
export type SealKind = 'blob' | 'pack-header' | 'index' | 'snapshot' | 'config' | 'lock' | 'key' | 'job' | 'report' | 'lease' | 'forgotten';

const AAD: Record<SealKind, Buffer> = {
  blob: Buffer.from('lifeboat/blob'),
  'pack-header': Buffer.from('lifeboat/pack-header'),
  index: Buffer.from('lifeboat/index'),
  snapshot: Buffer.from('lifeboat/snapshot'),
  config: Buffer.from('lifeboat/config'),
  lock: Buffer.from('lifeboat/lock'),
  key: Buffer.from('lifeboat/key'),
  job: Buffer.from('lifeboat/job'),
  report: Buffer.from('lifeboat/report'),
  lease: Buffer.from('lifeboat/lease'),
  forgotten: Buffer.from('lifeboat/forgotten'),
};

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Seals `plaintext`; returns nonce || ciphertext || tag. */
export function seal(key: Uint8Array, kind: SealKind, plaintext: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + SEAL_OVERHEAD);
  sealInto(key, kind, plaintext, out, 0);
  return out;
}

/**
 * Node's update() returns a fresh buffer per call. Fed in slices of this size, those buffers
 * come from the allocator's reused heap and stay in cache; a multi-megabyte update would get
 * fresh pages every time (page faults) and runs at half the speed here.
 */
const SLICE = 64 * 1024;

/** Seals `plaintext` into `out` at `at` (to assemble many sealed blobs without extra copies); returns the sealed length. */
export function sealInto(key: Uint8Array, kind: SealKind, plaintext: Uint8Array, out: Buffer, at: number): number {
  const nonce = randomBytes(NONCE_BYTES);
  nonce.copy(out, at);
  if (native) {
    const body = at + NONCE_BYTES;
    native.seal(key, nonce, AAD[kind], plaintext, out.subarray(body, body + plaintext.length), out.subarray(body + plaintext.length, body + plaintext.length + TAG_BYTES));
    return plaintext.length + SEAL_OVERHEAD;
  }
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(AAD[kind]);
  let pos = at + NONCE_BYTES;
  for (let i = 0; i < plaintext.length; i += SLICE) pos += cipher.update(plaintext.subarray(i, i + SLICE)).copy(out, pos);
  pos += cipher.final().copy(out, pos);
  pos += cipher.getAuthTag().copy(out, pos);
  return pos - at;
}

/** Decrypts and authenticates; any change to the bytes gives an IntegrityError naming `what`. */
export function open(key: Uint8Array, kind: SealKind, sealed: Uint8Array, what: string): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, sealed.length - SEAL_OVERHEAD));
  openInto(key, kind, sealed, out, what);
  return out;
}

/**
 * Like open, but writes the plaintext into `out` (at least sealed.length - SEAL_OVERHEAD bytes)
 * and returns its length. On an IntegrityError, `out` holds unauthenticated bytes: never use them.
 */
export function openInto(key: Uint8Array, kind: SealKind, sealed: Uint8Array, out: Uint8Array, what: string): number {
  if (sealed.length < SEAL_OVERHEAD) throw new IntegrityError(`${what} is truncated (${sealed.length} bytes)`);
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  if (native) {
    if (!native.open(key, nonce, AAD[kind], body, tag, out)) throw new IntegrityError(`${what} failed authentication: its stored bytes were damaged or altered`);
    return body.length;
  }
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(AAD[kind]);
  decipher.setAuthTag(tag);
  let pos = 0;
  try {
    for (let i = 0; i < body.length; i += SLICE) {
      const part = decipher.update(body.subarray(i, i + SLICE));
      out.set(part, pos);
      pos += part.length;
    }
    const final = decipher.final();
    out.set(final, pos);
    return pos + final.length;
  } catch (err) {
    throw new IntegrityError(`${what} failed authentication: its stored bytes were damaged or altered`, { cause: err });
  }
}
