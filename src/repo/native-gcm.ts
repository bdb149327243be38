/**
 * The AES-256-GCM addon (native/gcm.c), built by `npm ci` (node-gyp, against the headers of the
 * Node that runs it). Where it was not built (no compiler) or LIFEBOAT_NO_NATIVE=1 is set,
 * crypto.ts uses Node's Cipher instead: the same bytes, at about a third of the speed.
 */
import { createRequire } from 'node:module';

export interface NativeGcm {
  /** Decrypts `ciphertext` into `out`; false when the tag does not authenticate it (then `out` is garbage). */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, out: Uint8Array): boolean;
  /** Encrypts `plaintext` into `out` and writes the 16-byte tag into `tag`. */
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
}

export function loadNativeGcm(env: NodeJS.ProcessEnv = process.env): NativeGcm | undefined {
  if (env.LIFEBOAT_NO_NATIVE === '1') return undefined;
  try {
    // From dist/src/repo/ to the package root's build/.
    return createRequire(import.meta.url)('../../../build/Release/lifeboat_native.node') as NativeGcm;
  } catch {
    return undefined;
  }
}
