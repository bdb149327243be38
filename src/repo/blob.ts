/** Turning a blob's plaintext into its sealed pack bytes and back, verifying its id. */
import { open, seal, sha256 } from './crypto.js';
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

/**
 * Opens, decodes and verifies one blob. `verify` false skips the SHA-256 of the plaintext, for
 * callers that verify a larger unit (restore checks each whole file's SHA-256 and GCM already
 * authenticates every blob).
 */
export function openBlob(key: Uint8Array, codecs: CodecSet, sealed: Uint8Array, codec: number, rawLength: number, id: Uint8Array, verify = true, base?: Uint8Array): Buffer {
  const name = () => `blob ${Buffer.from(id).toString('hex').slice(0, 12)}`;
  const encoded = open(key, 'blob', sealed, name());
  const raw = codecs.byId(codec).decode(encoded, rawLength, base);
  if (raw.length !== rawLength) throw new IntegrityError(`${name()} decoded to ${raw.length} bytes instead of ${rawLength}`);
  if (verify && !sha256(raw).equals(id)) throw new IntegrityError(`${name()} does not match its SHA-256: its content is corrupt`);
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
}
