/**
 * Pack files: many blobs in one stored object.
 *
 *   blob_0 || blob_1 || ... || blob_n-1 || sealed header || header length (uint32 LE)
 *
 * Each blob_i is seal("blob", encoded bytes). The header is seal("pack-header", entries),
 * one entry per blob in order, 42 bytes:
 *   type (1: 0 data, 1 tree) || codec (1) || stored length (u32 LE) || raw length (u32 LE) || blob id (32)
 * followed, for a delta blob (codec 3) only, by 33 more bytes: base blob id (32) || chain depth (u8).
 * Blob offsets are the running sum of stored lengths. The header repeats what the index says,
 * so the index can always be rebuilt from the packs alone.
 */
import { open, seal, SEAL_OVERHEAD } from './crypto.js';
import { FormatError } from './errors.js';

export const BlobType = { data: 0, tree: 1 } as const;
export type BlobType = (typeof BlobType)[keyof typeof BlobType];

/** What a delta blob (codec 3) needs to be decoded: its base, and how deep its chain is (base depth + 1). */
export interface DeltaRef {
  base: Buffer;
  depth: number;
}

export interface PackEntry {
  id: Buffer;
  type: BlobType;
  codec: number;
  offset: number;
  /** Sealed length in the pack (encoded length + 28). */
  storedLength: number;
  rawLength: number;
  delta?: DeltaRef;
}

const ENTRY_BYTES = 42;
const DELTA_BYTES = 33;
/** Codec id of XOR deltas: the one codec whose entries carry a DeltaRef. */
export const DELTA_CODEC = 3;

/** Writes the DeltaRef after an entry when the codec needs one; returns bytes written. */
export function writeDelta(out: Buffer, at: number, codec: number, delta: DeltaRef | undefined, what: string): number {
  if (codec !== DELTA_CODEC) return 0;
  if (!delta) throw new FormatError(`${what}: a delta blob without its base`);
  delta.base.copy(out, at);
  out[at + 32] = delta.depth;
  return DELTA_BYTES;
}

export function readDelta(buf: Buffer, at: number, codec: number): DeltaRef | undefined {
  if (codec !== DELTA_CODEC) return undefined;
  return { base: Buffer.from(buf.subarray(at, at + 32)), depth: buf[at + 32] };
}

export const deltaBytes = (codec: number) => (codec === DELTA_CODEC ? DELTA_BYTES : 0);
const TRAILER_BYTES = 4;

export function encodePackHeader(key: Uint8Array, entries: readonly PackEntry[]): Buffer {
  const plain = Buffer.alloc(entries.reduce((n, e) => n + ENTRY_BYTES + deltaBytes(e.codec), 0));
  let at = 0;
  for (const e of entries) {
    plain[at] = e.type;
    plain[at + 1] = e.codec;
    plain.writeUInt32LE(e.storedLength, at + 2);
    plain.writeUInt32LE(e.rawLength, at + 6);
    e.id.copy(plain, at + 10);
    at += ENTRY_BYTES;
    at += writeDelta(plain, at, e.codec, e.delta, 'pack header');
  }
  const sealed = seal(key, 'pack-header', plain);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(sealed.length);
  return Buffer.concat([sealed, trailer]);
}

/** Where the sealed header sits, from the last 4 bytes of the pack. */
export function packHeaderRange(packSize: number, trailer: Buffer, packId: string): { offset: number; length: number } {
  const length = trailer.readUInt32LE(trailer.length - TRAILER_BYTES);
  if (length < SEAL_OVERHEAD || length + TRAILER_BYTES > packSize) {
    throw new FormatError(`pack ${packId.slice(0, 12)} has an impossible header length ${length}: the pack is damaged`);
  }
  return { offset: packSize - TRAILER_BYTES - length, length };
}

export function decodePackHeader(key: Uint8Array, sealedHeader: Buffer, packId: string): PackEntry[] {
  const plain = open(key, 'pack-header', sealedHeader, `header of pack ${packId.slice(0, 12)}`);
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let at = 0; at < plain.length; ) {
    const codec = plain[at + 1];
    if (at + ENTRY_BYTES + deltaBytes(codec) > plain.length) throw new FormatError(`header of pack ${packId.slice(0, 12)} is truncated`);
    const storedLength = plain.readUInt32LE(at + 2);
    entries.push({
      type: plain[at] as BlobType,
      codec,
      storedLength,
      rawLength: plain.readUInt32LE(at + 6),
      id: Buffer.from(plain.subarray(at + 10, at + ENTRY_BYTES)),
      offset,
      delta: readDelta(plain, at + ENTRY_BYTES, codec),
    });
    offset += storedLength;
    at += ENTRY_BYTES + deltaBytes(codec);
  }
  return entries;
}

/** Reads and decodes a whole pack held in memory (check --read-data, index rebuild). */
export function readPackHeader(key: Uint8Array, pack: Buffer, packId: string): PackEntry[] {
  if (pack.length < TRAILER_BYTES) throw new FormatError(`pack ${packId.slice(0, 12)} is truncated`);
  const { offset, length } = packHeaderRange(pack.length, pack.subarray(pack.length - TRAILER_BYTES), packId);
  return decodePackHeader(key, pack.subarray(offset, offset + length), packId);
}
