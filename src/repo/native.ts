/**
 * The addon (native/: AES-256-GCM in gcm.c, byte planes in planes.c, file times in times.c), built by `npm ci`
 * (node-gyp, against the headers of the Node that runs it). Where it was not built (no compiler)
 * or LIFEBOAT_NO_NATIVE=1 is set, crypto.ts uses Node's Cipher and planes.ts its WebAssembly
 * kernel instead: the same bytes, more slowly.
 */
import { createRequire } from 'node:module';

export interface NativeAddon {
  /** Decrypts `ciphertext` into `out`; false when the tag does not authenticate it (then `out` is garbage). */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, out: Uint8Array): boolean;
  /** Encrypts `plaintext` into `out` and writes the 16-byte tag into `tag`. */
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
  /** planes[b][i] = src[i × w + b] ^ xor[i × w + b] over the whole elements of src; w = planes.length (2 or 4). */
  split(src: Uint8Array, xor: Uint8Array | null, ...planes: Uint8Array[]): void;
  /** dst[i × w + b] = planes[b][i] ^ xor[i × w + b] over the whole elements of dst; w = planes.length (2 or 4). */
  merge(dst: Uint8Array, xor: Uint8Array | null, ...planes: Uint8Array[]): void;
  /** futimens / utimensat: atime and mtime to seconds + nanoseconds; throws an Error whose code is the errno's name. Absent from addons built before it. */
  setTimes?(target: number | string, seconds: number, nanoseconds: number, noFollow: boolean): void;
}

export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeAddon | undefined {
  if (env.LIFEBOAT_NO_NATIVE === '1') return undefined;
  try {
    // From dist/src/repo/ to the package root's build/.
    return createRequire(import.meta.url)('../../../build/Release/lifeboat_native.node') as NativeAddon;
  } catch {
    return undefined;
  }
}
