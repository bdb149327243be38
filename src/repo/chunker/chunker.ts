/**
 * Splitting files into blobs happens in two steps, so that both cores can work on one file:
 *
 * 1. A FileSplitter looks at a whole file (for a safetensors file: its header) and plans it
 *    as a sequence of Segments that cover the file exactly, in order, without overlap.
 * 2. Each segment is cut into chunks inside a worker thread, independently of the others:
 *    by content-defined chunking (`cdc`) or into fixed-size pieces (`fixed`). Segment
 *    boundaries are always cut points.
 *
 * Every chunk of a segment becomes one blob; the segment's dtype is passed to the codecs.
 */
import type { DType } from '../codec/codec.js';

export interface Segment {
  offset: number;
  length: number;
  /** `cdc`: FastCDC cut points; `fixed`: pieces of `pieceSize` bytes (the last may be shorter). */
  cut: 'cdc' | 'fixed';
  pieceSize?: number;
  /** Element type of a tensor segment, a hint for codecs. */
  dtype?: DType;
  /** Stable name of what this segment holds (e.g. `tensor:model.layers.0.q_proj.weight#3`), so that
   * a delta codec can find the same piece in the parent snapshot. */
  label?: string;
}

/** Reads as much of the file as it needs to plan it. */
export interface FileReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export interface FileSplitter {
  readonly name: string;
  /** A plan for this file, or undefined when the splitter does not apply (the next one is asked). */
  plan(file: FileReader, fileName: string): Promise<Segment[] | undefined>;
}

/** Content-defined chunking parameters, stored in the repository config. */
export interface CdcParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
  /** 32-bit seed of the gear table, random per repository unless shared on purpose (copy). */
  seed: number;
}
