/**
 * Pack files: many blobs in one stored object.
 *
 *   blob_0 || blob_1 || ... || blob_n-1 || sealed header || header length (uint32 LE)
 *
 * Each blob_i is seal("blob", encoded bytes). The header is seal("pack-header", entries),
 * one 42-byte entry per blob in order:
 *   type (1: 0 data, 1 tree) || codec (1) || stored length (u32 LE) || raw length (u32 LE) || blob id (32)
 * Blob offsets are the running sum of stored lengths. The header repeats what the index says,
 * so the index can always be rebuilt from the packs alone.
 */
import { open, seal, SEAL_OVERHEAD } from './crypto.js';
import { FormatError } from './errors.js';

export const BlobType = { data: 0, tree: 1 } as const;
export type BlobType = (typeof BlobType)[keyof typeof BlobType];

export interface PackEntry {
  id: Buffer;
  type: BlobType;
  codec: number;
  offset: number;
  /** Sealed length in the pack (encoded length + 28). */
  storedLength: number;
  rawLength: number;
}

const ENTRY_BYTES = 42;
const TRAILER_BYTES = 4;

export function encodePackHeader(key: Uint8Array, entries: readonly PackEntry[]): Buffer {
  const plain = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach((e, i) => {
    const at = i * ENTRY_BYTES;
    plain[at] = e.type;
    plain[at + 1] = e.codec;
    plain.writeUInt32LE(e.storedLength, at + 2);
    plain.writeUInt32LE(e.rawLength, at + 6);
    e.id.copy(plain, at + 10);
  });
  const sealed = seal(key, 'pack-header', plain);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(sealed.length);
  return Buffer.concat([sealed, trailer]);
}

/** Where the sealed header sits, from the last 4 bytes of the pack. */
export function packHeaderRange(packSize: number, trailer: Buffer, packId: string): { offset: number; length: number } {
  const length = trailer.readUInt32LE(trailer.length - TRAILER_BYTES);
  if (length < SEAL_OVERHEAD || length + TRAILER_BYTES > packSize || (length - SEAL_OVERHEAD) % ENTRY_BYTES !== 0) {
    throw new FormatError(`pack ${packId.slice(0, 12)} has an impossible header length ${length}: the pack is damaged`);
  }
  return { offset: packSize - TRAILER_BYTES - length, length };
}

export function decodePackHeader(key: Uint8Array, sealedHeader: Buffer, packId: string): PackEntry[] {
  const plain = open(key, 'pack-header', sealedHeader, `header of pack ${packId.slice(0, 12)}`);
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let at = 0; at < plain.length; at += ENTRY_BYTES) {
    const storedLength = plain.readUInt32LE(at + 2);
    entries.push({
      type: plain[at] as BlobType,
      codec: plain[at + 1],
      storedLength,
      rawLength: plain.readUInt32LE(at + 6),
      id: Buffer.from(plain.subarray(at + 10, at + ENTRY_BYTES)),
      offset,
    });
    offset += storedLength;
  }
  return entries;
}

/** Reads and decodes a whole pack held in memory (check --read-data, index rebuild). */
export function readPackHeader(key: Uint8Array, pack: Buffer, packId: string): PackEntry[] {
  if (pack.length < TRAILER_BYTES) throw new FormatError(`pack ${packId.slice(0, 12)} is truncated`);
  const { offset, length } = packHeaderRange(pack.length, pack.subarray(pack.length - TRAILER_BYTES), packId);
  return decodePackHeader(key, pack.subarray(offset, offset + length), packId);
}
