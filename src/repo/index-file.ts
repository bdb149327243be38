/**
 * Index files `index/<id>`: which blobs are in which packs. Written during a backup every few
 * packs (so a crash loses at most the packs since the last index) and at its end.
 *
 * Plaintext, sealed with kind "index":
 *   "LBIX" || version (u8, 1) || 3 zero bytes || pack count (u32 LE)
 *   per pack:  pack id (32) || blob count (u32 LE) || blob entries
 *   per blob:  blob id (32) || type (u8) || codec (u8) || offset (u32) || stored length (u32) || raw length (u32)
 *              and, for a delta blob (codec 3) only: base blob id (32) || chain depth (u8)
 */
import { FormatError, IndexDamagedError } from './errors.js';
import { deltaBytes, readDelta, writeDelta, type BlobType, type PackEntry } from './pack.js';

const MAGIC = Buffer.from('LBIX');
export const INDEX_VERSION = 1;
const BLOB_BYTES = 46;

export interface IndexedPack {
  packId: string;
  entries: PackEntry[];
}

export function encodeIndex(packs: readonly IndexedPack[]): Buffer {
  const size = 12 + packs.reduce((n, p) => n + 36 + p.entries.reduce((m, e) => m + BLOB_BYTES + deltaBytes(e.codec), 0), 0);
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out[4] = INDEX_VERSION;
  out.writeUInt32LE(packs.length, 8);
  let at = 12;
  for (const p of packs) {
    out.write(p.packId, at, 'hex');
    out.writeUInt32LE(p.entries.length, at + 32);
    at += 36;
    for (const e of p.entries) {
      e.id.copy(out, at);
      out[at + 32] = e.type;
      out[at + 33] = e.codec;
      out.writeUInt32LE(e.offset, at + 34);
      out.writeUInt32LE(e.storedLength, at + 38);
      out.writeUInt32LE(e.rawLength, at + 42);
      at += BLOB_BYTES;
      at += writeDelta(out, at, e.codec, e.delta, 'index');
    }
  }
  return out;
}

export function decodeIndex(plain: Buffer, indexId: string): IndexedPack[] {
  const bad = (why: string) => new IndexDamagedError(indexId, `is malformed (${why})`);
  if (plain.length < 12 || !plain.subarray(0, 4).equals(MAGIC)) throw bad('no LBIX magic');
  if (plain[4] > INDEX_VERSION) throw new FormatError(`index ${indexId.slice(0, 12)} has version ${plain[4]}, newer than this lifeboat supports: upgrade lifeboat`);
  const packCount = plain.readUInt32LE(8);
  const packs: IndexedPack[] = [];
  let at = 12;
  for (let p = 0; p < packCount; p++) {
    if (at + 36 > plain.length) throw bad('truncated');
    const packId = plain.toString('hex', at, at + 32);
    const n = plain.readUInt32LE(at + 32);
    at += 36;
    const entries: PackEntry[] = [];
    for (let i = 0; i < n; i++) {
      if (at + BLOB_BYTES + deltaBytes(plain[at + 33]) > plain.length) throw bad('truncated');
      entries.push({
        id: Buffer.from(plain.subarray(at, at + 32)),
        type: plain[at + 32] as BlobType,
        codec: plain[at + 33],
        offset: plain.readUInt32LE(at + 34),
        storedLength: plain.readUInt32LE(at + 38),
        rawLength: plain.readUInt32LE(at + 42),
        delta: readDelta(plain, at + BLOB_BYTES, plain[at + 33]),
      });
      at += BLOB_BYTES + deltaBytes(plain[at + 33]);
    }
    packs.push({ packId, entries });
  }
  return packs;
}
