// A deterministic synthetic vocabulary (pseudo-words from syllables) with Zipf(1) frequencies,
// shared by the tokenizer and the dataset text so both look like natural-language artifacts.
import { nextU32, rngFor } from './rng.js';

const SYLLABLES = ['ba', 'ri', 'ton', 'el', 'sa', 'mor', 'qui', 'den', 'lu', 'ka', 'ver', 'is', 'po', 'an', 'tre', 'gol', 'mi', 'sun', 'ra', 'che', 'fo', 'ul', 'ne', 'das', 'wy', 'or', 'pe', 'li', 'zan', 'ho'];
const COMMON = ['the', 'of', 'and', 'to', 'a', 'in', 'is', 'it', 'that', 'for', 'was', 'on', 'with', 'as', 'be', 'at', 'by', 'this', 'from', 'model'];

export interface Words {
  list: string[];
  /** 65536 slots; a uniform 16-bit draw indexes a Zipf-distributed word */
  zipf: Uint16Array;
}

export function makeWords(seed: number, count: number): Words {
  const rng = rngFor(seed, 'words');
  const seen = new Set(COMMON);
  const list = [...COMMON];
  while (list.length < count) {
    let w = '';
    const parts = 1 + (nextU32(rng) % 3);
    for (let i = 0; i < parts; i++) w += SYLLABLES[nextU32(rng) % SYLLABLES.length];
    if (!seen.has(w)) {
      seen.add(w);
      list.push(w);
    }
    if (seen.size > 30 * 30 * 30) break; // cannot happen for count <= 27,000 distinct words
  }
  let norm = 0;
  for (let i = 0; i < list.length; i++) norm += 1 / (i + 1);
  const zipf = new Uint16Array(65536);
  let slot = 0;
  let cumulative = 0;
  for (let i = 0; i < list.length; i++) {
    cumulative += 1 / (i + 1) / norm;
    const end = Math.min(65536, Math.round(cumulative * 65536));
    for (; slot < end; slot++) zipf[slot] = i;
  }
  for (; slot < 65536; slot++) zipf[slot] = list.length - 1;
  return { list, zipf };
}
