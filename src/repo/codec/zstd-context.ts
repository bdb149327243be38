/**
 * A reusable zstd compression/decompression context that writes into caller-provided
 * buffers (zstd-napi's low-level binding), so that byte planes are compressed straight into
 * the output blob without intermediate copies. One context per codec instance: a codec
 * instance lives in one worker thread, and contexts are not shareable between threads.
 */
import binding from 'zstd-napi/binding.js';
import { FormatError } from '../errors.js';

/** zstd parameters for one kind of data. Unset fields keep zstd's defaults for the level. */
export interface ZstdProfile {
  level: number;
  minMatch?: number;
  hashLog?: number;
  chainLog?: number;
  searchLog?: number;
}

export interface ZstdContext {
  /** Upper bound of the compressed size of `length` bytes. */
  bound(length: number): number;
  /**
   * Compresses `src` into `dst` as one frame and returns its length, or -1 when the frame
   * does not fit in `dst`: a `dst` smaller than bound(src.length) thus doubles as "only if it
   * gets at least this small", which lets callers write straight into tight output buffers.
   */
  compressInto(dst: Uint8Array, src: Uint8Array, profile: ZstdProfile): number;
  /** Decompresses exactly one frame into `dst`, which must be filled exactly; throws FormatError otherwise. */
  decompressExact(dst: Uint8Array, src: Uint8Array, what: string): void;
}

export function makeZstdContext(): ZstdContext {
  const cctx = new binding.CCtx();
  const dctx = new binding.DCtx();
  let current: ZstdProfile | undefined;

  function configure(profile: ZstdProfile): void {
    if (current === profile) return;
    cctx.reset(binding.ResetDirective.parameters);
    cctx.setParameter(binding.CParameter.compressionLevel, profile.level);
    if (profile.minMatch !== undefined) cctx.setParameter(binding.CParameter.minMatch, profile.minMatch);
    if (profile.hashLog !== undefined) cctx.setParameter(binding.CParameter.hashLog, profile.hashLog);
    if (profile.chainLog !== undefined) cctx.setParameter(binding.CParameter.chainLog, profile.chainLog);
    if (profile.searchLog !== undefined) cctx.setParameter(binding.CParameter.searchLog, profile.searchLog);
    current = profile;
  }

  return {
    bound: (length) => binding.compressBound(length),
    compressInto(dst, src, profile) {
      configure(profile);
      if (dst.length >= binding.compressBound(src.length)) return cctx.compress2(dst, src);
      try {
        return cctx.compress2(dst, src);
      } catch {
        // zstd's only error with valid parameters here is "destination too small".
        cctx.reset(binding.ResetDirective.sessionOnly);
        return -1;
      }
    },
    decompressExact(dst, src, what) {
      let size: number | null;
      try {
        size = binding.getFrameContentSize(src);
      } catch (cause) {
        throw new FormatError(`${what}: not a zstd frame`, { cause });
      }
      // A frame that claims another size is damaged; checking first also keeps a forged
      // header from making zstd write past what we expect.
      if (size !== dst.length) throw new FormatError(`${what}: zstd frame holds ${size} bytes, expected ${dst.length}`);
      let written: number;
      try {
        written = dctx.decompress(dst, src);
      } catch (cause) {
        throw new FormatError(`${what}: zstd frame does not decode`, { cause });
      }
      if (written !== dst.length) throw new FormatError(`${what}: zstd frame decoded to ${written} bytes, expected ${dst.length}`);
    },
  };
}
