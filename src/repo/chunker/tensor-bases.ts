/**
 * Finding delta bases, the pure part: which stored blob holds each labelled tensor piece of a
 * file in a snapshot. The engine re-plans the parent's file (planTensorFile over a reader of
 * the snapshot's file, which reads only its header blobs), then maps the plan onto the file's
 * content list with this function; a new piece's base is the entry with the same label,
 * dtype and length.
 */
import type { DType } from '../codec/codec.js';
import type { Segment } from './chunker.js';

export interface PieceBlob {
  /** Blob id (hex). */
  id: string;
  offset: number;
  length: number;
  dtype?: DType;
}

/**
 * `content` is the file's content list as stored in its tree node: a string is a blob id,
 * a number a run of zero bytes stored as nothing (zero pieces have no blob and get no entry).
 * Only labelled `fixed` segments that are exactly one blob are listed; any mismatch between
 * plan and content (another splitter, another version) simply yields fewer entries.
 */
export function piecesByLabel(plan: readonly Segment[], content: readonly (string | number)[], rawLength: (id: string) => number): Map<string, PieceBlob> {
  const blobAt = new Map<number, { id: string; length: number }>();
  let offset = 0;
  for (const ref of content) {
    const length = typeof ref === 'number' ? ref : rawLength(ref);
    if (typeof ref === 'string') blobAt.set(offset, { id: ref, length });
    offset += length;
  }
  const pieces = new Map<string, PieceBlob>();
  for (const s of plan) {
    if (s.cut !== 'fixed' || s.label === undefined) continue;
    const blob = blobAt.get(s.offset);
    if (blob && blob.length === s.length) pieces.set(s.label, { id: blob.id, offset: s.offset, length: s.length, dtype: s.dtype });
  }
  return pieces;
}

/** The parent's piece that can serve as the delta base of `segment`, if any. */
export function baseFor(segment: Segment, parent: ReadonlyMap<string, PieceBlob>): PieceBlob | undefined {
  if (segment.label === undefined) return undefined;
  const p = parent.get(segment.label);
  return p && p.length === segment.length && p.dtype === segment.dtype ? p : undefined;
}
