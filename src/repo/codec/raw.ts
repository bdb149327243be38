/** Codec 0: the plaintext as it is. Used whenever no other codec makes the blob smaller. */
import { CodecId, type Codec } from './codec.js';

export const rawCodec: Codec = {
  id: CodecId.raw,
  name: 'raw',
  encode: (raw) => raw,
  decode(encoded, _rawLength, _base, out) {
    if (!out) return encoded;
    out.set(encoded);
    return out;
  },
};
