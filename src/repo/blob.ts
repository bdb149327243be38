/** Turning a blob's plaintext into its sealed pack bytes and back, verifying its id. */
import { open, openInto, seal, sealInto, SEAL_OVERHEAD, sha256 } from './crypto.js';
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
  let encoded: Uint8Array;
  if (options.scratch) {
    const room = options.scratch(Math.max(0, sealed.length - SEAL_OVERHEAD));
    encoded = room.subarray(0, openInto(key, 'blob', sealed, room, blobName(blob)));
  } else {
    encoded = open(key, 'blob', sealed, blobName(blob));
  }
  const raw = decodeChecked(codecs, encoded, blob, options);
  if (options.out && raw !== options.out) options.out.set(raw);
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
}

export interface ResealOptions {
  /** Plaintext of the delta base, for a codec-3 blob. */
  base?: Uint8Array;
  /** Reusable room for the decrypted, still encoded bytes, and for the plaintext that verifies them. */
  scratch: (length: number) => Uint8Array;
  plaintext: (length: number) => Uint8Array;
}

/**
 * Re-keys a sealed blob in place (copy between repositories): opens it under `from`, verifies
 * its plaintext (decode, SHA-256), and seals the same encoded bytes under `to` over the old
 * ones. The length does not change, and nothing is compressed twice.
 */
export function resealBlob(from: Uint8Array, to: Uint8Array, codecs: CodecSet, sealed: Buffer, blob: BlobFacts, options: ResealOptions): void {
  const room = options.scratch(Math.max(0, sealed.length - SEAL_OVERHEAD));
  const encoded = room.subarray(0, openInto(from, 'blob', sealed, room, blobName(blob)));
  decodeChecked(codecs, encoded, blob, { base: options.base, out: options.plaintext(blob.rawLength) });
  sealInto(to, 'blob', encoded, sealed, 0);
}

function decodeChecked(codecs: CodecSet, encoded: Uint8Array, blob: BlobFacts, options: OpenBlobOptions): Uint8Array {
  const raw = codecs.byId(blob.codec).decode(encoded, blob.rawLength, options.base, options.out);
  if (raw.length !== blob.rawLength) throw new IntegrityError(`${blobName(blob)} decoded to ${raw.length} bytes instead of ${blob.rawLength}`);
  if ((options.verify ?? true) && !sha256(raw).equals(blob.id)) throw new IntegrityError(`${blobName(blob)} does not match its SHA-256: its content is corrupt`);
  return raw;
}

function blobName(blob: BlobFacts): string {
  return `blob ${Buffer.from(blob.id).toString('hex').slice(0, 12)}`;
}
