/**
 * Turns a validated TensorLayout into Segments that cover the file exactly, in order:
 *
 * - the header (JSON / GGUF metadata + tensor infos + padding) is one `cdc` segment
 *   labelled `<format>:header`, so a changed metadata field costs a chunk or two, not the file;
 * - each tensor is cut at its own boundaries into `fixed` pieces of at most PIECE_SIZE bytes,
 *   one segment per piece, labelled `tensor:<name>#<piece index>` and carrying its dtype: an
 *   unchanged tensor dedups exactly even when the header or its neighbours changed, and the
 *   delta codec finds "the same piece" in the parent snapshot by label;
 * - runs of consecutive tiny tensors (norms, biases: < SMALL_TENSOR bytes each) of one dtype
 *   share one segment (at most PIECE_SIZE), labelled `tensor:<first>+<more>`, so a model
 *   with thousands of them does not turn into thousands of tiny blobs;
 * - bytes no tensor claims (alignment padding, holes, trailing data) join the previous
 *   segment when shorter than SMALL_GAP, else form their own `cdc` segment.
 *
 * Why 4 MiB pieces: an unchanged tensor dedups exactly at any piece size, and a full
 * fine-tune changes every piece anyway (the XOR delta codec handles that), so the size only
 * trades index entries against memory per blob in flight: 4 MiB is 256 blobs per GiB
 * (~51 k for a 200 GB checkpoint), ~4 ms of codec work per blob, a multiple of every
 * element size, and 2–4x the FastCDC average so tensor data never makes more blobs than CDC.
 */
import type { Segment } from './chunker.js';
import type { TensorEntry, TensorLayout } from './tensor-layout.js';

export const PIECE_SIZE = 4 * 1024 * 1024;
export const SMALL_TENSOR = 64 * 1024;
export const SMALL_GAP = 64 * 1024;

export function planTensorSegments(layout: TensorLayout, fileSize: number): Segment[] {
  const segments: Segment[] = [{ offset: 0, length: layout.dataStart, cut: 'cdc', label: `${layout.format}:header` }];
  let group: { segment: Segment; first: string; count: number } | undefined;
  const closeGroup = () => {
    if (group && group.count > 1) group.segment.label = `tensor:${group.first}+${group.count - 1}`;
    group = undefined;
  };
  const end = () => segments[segments.length - 1].offset + segments[segments.length - 1].length;

  for (const t of layout.tensors) {
    if (t.length === 0) continue;
    if (t.start > end()) {
      closeGroup();
      fillGap(segments, end(), t.start);
    }
    if (t.length < SMALL_TENSOR && group && group.segment.dtype === t.dtype && group.segment.length + t.length <= PIECE_SIZE) {
      group.segment.length += t.length;
      group.segment.pieceSize = group.segment.length;
      group.count++;
      continue;
    }
    closeGroup();
    const pieces = pieceSegments(t);
    segments.push(...pieces);
    if (t.length < SMALL_TENSOR) group = { segment: pieces[0], first: t.name, count: 1 };
  }
  closeGroup();
  if (fileSize > end()) fillGap(segments, end(), fileSize);
  return segments;
}

function pieceSegments(t: TensorEntry): Segment[] {
  const pieces: Segment[] = [];
  for (let at = 0, i = 0; at < t.length; at += PIECE_SIZE, i++) {
    const length = Math.min(PIECE_SIZE, t.length - at);
    pieces.push({ offset: t.start + at, length, cut: 'fixed', pieceSize: length, dtype: t.dtype, label: `tensor:${t.name}#${i}` });
  }
  return pieces;
}

function fillGap(segments: Segment[], from: number, to: number): void {
  const last = segments[segments.length - 1];
  if (to - from < SMALL_GAP && last.length > 0) {
    last.length += to - from;
    if (last.cut === 'fixed') last.pieceSize = last.length;
  } else {
    segments.push({ offset: from, length: to - from, cut: 'cdc' });
  }
}
