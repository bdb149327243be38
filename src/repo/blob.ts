/** Turning a blob's plaintext into its sealed pack bytes and back, verifying its id. */
import { open, openInto, seal, SEAL_OVERHEAD, sha256 } from './crypto.js';
import { IntegrityError } from './errors.js';
import { chooseEncoding, type Encoded } from './codec/choose.js';
import type { CodecSet } from './codec/all.js';
import type { EncodeHint } from './codec/codec.js';

export interface SealedBlob {
  codec: number;
  sealed: Buffer;
}

export function sealBlob(key: Uint8Array, codecs: CodecSet, raw: Uint8Array, hint: EncodeHint): SealedBlob {
  const { codec, bytes } = encodeBlob(codecs, raw, hint);
  return { codec, sealed: seal(key, 'blob', bytes) };
}

/** The encoding step alone, for callers that seal many blobs into one buffer (sealInto). */
export function encodeBlob(codecs: CodecSet, raw: Uint8Array, hint: EncodeHint): Encoded {
  return chooseEncoding(raw, hint, codecs.candidatesFor(hint.dtype, !!hint.base));
}

export interface OpenBlobOptions {
  /**
   * False skips the SHA-256 of the plaintext, for callers that verify a larger unit (restore
   * checks each whole file's SHA-256, and GCM already authenticates every blob).
   */
  verify?: boolean;
  /** Plaintext of the delta base, for a codec-3 blob. */
  base?: Uint8Array;
  /** Where to write the plaintext (exactly rawLength bytes); a new buffer otherwise. */
  out?: Uint8Array;
  /** Reusable room for the decrypted, still encoded bytes (see reusableBuffer). */
  scratch?: (length: number) => Uint8Array;
}

/** What the index says about a blob, as far as opening it goes. */
export interface BlobFacts {
  codec: number;
  rawLength: number;
  id: Uint8Array;
}

/** Opens, decodes and (unless told not to) verifies one blob. */
export function openBlob(key: Uint8Array, codecs: CodecSet, sealed: Uint8Array, blob: BlobFacts, options: OpenBlobOptions = {}): Buffer {
  const name = () => `blob ${Buffer.from(blob.id).toString('hex').slice(0, 12)}`;
  let encoded: Uint8Array;
  if (options.scratch) {
    const room = options.scratch(Math.max(0, sealed.length - SEAL_OVERHEAD));
    encoded = room.subarray(0, openInto(key, 'blob', sealed, room, name()));
  } else {
    encoded = open(key, 'blob', sealed, name());
  }
  const raw = codecs.byId(blob.codec).decode(encoded, blob.rawLength, options.base, options.out);
  if (raw.length !== blob.rawLength) throw new IntegrityError(`${name()} decoded to ${raw.length} bytes instead of ${blob.rawLength}`);
  if (options.out && raw !== options.out) options.out.set(raw);
  if ((options.verify ?? true) && !sha256(raw).equals(blob.id)) throw new IntegrityError(`${name()} does not match its SHA-256: its content is corrupt`);
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
}
