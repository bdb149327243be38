/** The registry of codecs by id. A duplicate id is a programming error and throws at start-up. */
import type { Codec } from './codec.js';
import { FormatError } from '../errors.js';

export function makeCodecRegistry(codecs: readonly Codec[]): (id: number) => Codec {
  const byId = new Map<number, Codec>();
  for (const codec of codecs) {
    if (byId.has(codec.id)) throw new Error(`codec id ${codec.id} registered twice (${byId.get(codec.id)!.name}, ${codec.name})`);
    byId.set(codec.id, codec);
  }
  return (id) => {
    const codec = byId.get(id);
    if (!codec) throw new FormatError(`blob uses codec ${id}, which this version of lifeboat does not know: upgrade lifeboat`);
    return codec;
  };
}
