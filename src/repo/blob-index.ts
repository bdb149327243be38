/**
 * The in-memory index: blob id -> (pack, offset, lengths, codec, type).
 *
 * Compact on purpose (a 10 TiB repository of 1 MiB blobs has ~10 M entries): entries live in
 * parallel typed arrays, 50 bytes each (id 32, pack number 4, offset 4, stored length 4, raw
 * length 4, codec 1, type 1), plus an open-addressing hash table of int32 slots kept at most half
 * full (8 bytes or less per entry). About 58 bytes per blob, no per-entry JS objects.
 * Lookups hash by the id's first 4 bytes: ids are SHA-256 values, already uniform.
 */
import type { BlobType, DeltaRef, PackEntry } from './pack.js';

export interface IndexedBlob {
  packId: string;
  offset: number;
  storedLength: number;
  rawLength: number;
  codec: number;
  type: BlobType;
  delta?: DeltaRef;
}

export class BlobIndex {
  private ids = new Uint8Array(32 * 1024);
  private pack = new Uint32Array(1024);
  private offset = new Uint32Array(1024);
  private stored = new Uint32Array(1024);
  private raw = new Uint32Array(1024);
  private codec = new Uint8Array(1024);
  private type = new Uint8Array(1024);
  private table = new Int32Array(2048).fill(-1);
  private count = 0;
  private packIds: string[] = [];
  /** Delta blobs only (few): entry number -> base and depth. */
  private deltas = new Map<number, DeltaRef>();
  private packNumbers = new Map<string, number>();

  get size(): number {
    return this.count;
  }

  /** Every pack the index knows, with the number of blobs in it. */
  packs(): string[] {
    return this.packIds.slice();
  }

  hasPack(packId: string): boolean {
    return this.packNumbers.has(packId);
  }

  has(id: Uint8Array): boolean {
    return this.find(id) >= 0;
  }

  get(id: Uint8Array): IndexedBlob | undefined {
    const slot = this.find(id);
    return slot < 0 ? undefined : this.at(slot);
  }

  /** Adds the blobs of one pack; a blob already indexed (in another pack) keeps its first location. */
  addPack(packId: string, entries: readonly PackEntry[]): void {
    let packNo = this.packNumbers.get(packId);
    if (packNo === undefined) {
      packNo = this.packIds.length;
      this.packIds.push(packId);
      this.packNumbers.set(packId, packNo);
    }
    for (const e of entries) {
      if (this.find(e.id) >= 0) continue;
      this.append(packNo, e);
    }
  }

  /** Visits every entry; `id` is a view that is only valid during the call. */
  forEach(visit: (id: Uint8Array, blob: IndexedBlob) => void): void {
    for (let i = 0; i < this.count; i++) visit(this.ids.subarray(i * 32, i * 32 + 32), this.at(i));
  }

  private at(i: number): IndexedBlob {
    return {
      packId: this.packIds[this.pack[i]],
      offset: this.offset[i],
      storedLength: this.stored[i],
      rawLength: this.raw[i],
      codec: this.codec[i],
      type: this.type[i] as BlobType,
      delta: this.deltas.get(i),
    };
  }

  private find(id: Uint8Array): number {
    const mask = this.table.length - 1;
    let h = hashOf(id) & mask;
    for (;;) {
      const slot = this.table[h];
      if (slot < 0) return -1;
      if (this.idEquals(slot, id)) return slot;
      h = (h + 1) & mask;
    }
  }

  private idEquals(slot: number, id: Uint8Array): boolean {
    const base = slot * 32;
    for (let i = 0; i < 32; i++) if (this.ids[base + i] !== id[i]) return false;
    return true;
  }

  private append(packNo: number, e: PackEntry): void {
    if (this.count === this.pack.length) this.growEntries();
    if ((this.count + 1) * 2 > this.table.length) this.growTable();
    const i = this.count++;
    this.ids.set(e.id, i * 32);
    this.pack[i] = packNo;
    this.offset[i] = e.offset;
    this.stored[i] = e.storedLength;
    this.raw[i] = e.rawLength;
    this.codec[i] = e.codec;
    this.type[i] = e.type;
    if (e.delta) this.deltas.set(i, e.delta);
    this.insertSlot(i);
  }

  private insertSlot(i: number): void {
    const mask = this.table.length - 1;
    let h = hashOf(this.ids.subarray(i * 32, i * 32 + 4)) & mask;
    while (this.table[h] >= 0) h = (h + 1) & mask;
    this.table[h] = i;
  }

  private growEntries(): void {
    const n = this.pack.length * 2;
    this.ids = grow(this.ids, n * 32);
    this.pack = grow(this.pack, n);
    this.offset = grow(this.offset, n);
    this.stored = grow(this.stored, n);
    this.raw = grow(this.raw, n);
    this.codec = grow(this.codec, n);
    this.type = grow(this.type, n);
  }

  private growTable(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    for (let i = 0; i < this.count; i++) this.insertSlot(i);
  }
}

function hashOf(id: Uint8Array): number {
  return (id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24)) >>> 0;
}

function grow<T extends Uint8Array | Uint32Array>(arr: T, length: number): T {
  const next = new (arr.constructor as new (n: number) => T)(length);
  next.set(arr);
  return next;
}
