/**
 * Picks the encoding of one blob: the smallest result among the codecs that apply, and raw
 * when nothing makes it smaller. Candidates are tried in order; a later one is only kept when
 * it is strictly smaller, so ties go to the cheaper-to-decode codec listed first.
 */
import type { Codec, EncodeHint } from './codec.js';
import { rawCodec } from './raw.js';

export interface Encoded {
  codec: number;
  bytes: Uint8Array;
}

export function chooseEncoding(raw: Uint8Array, hint: EncodeHint, candidates: readonly Codec[]): Encoded {
  let best: Encoded = { codec: rawCodec.id, bytes: raw };
  for (const codec of candidates) {
    const bytes = codec.encode(raw, hint);
    if (bytes && bytes.length < best.bytes.length) best = { codec: codec.id, bytes };
    // Below 1/8 of the raw size no later candidate can win much: skip their cost.
    if (best.bytes.length * 8 <= raw.length) break;
  }
  return best;
}
