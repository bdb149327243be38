/** The hashing thread of hash-thread.ts: one running SHA-256 per file, updated in message order. */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export type HashRequest =
  | { op: 'update'; seq: number; file: number; buffer: ArrayBufferLike; offset: number; length: number }
  | { op: 'digest'; seq: number; file: number };

export interface HashReply {
  seq: number;
  digest?: string;
}

const hashes = new Map<number, Hash>();
const port = parentPort!;

port.on('message', (m: HashRequest) => {
  let hash = hashes.get(m.file);
  if (!hash) hashes.set(m.file, (hash = createHash('sha256')));
  if (m.op === 'update') {
    hash.update(new Uint8Array(m.buffer, m.offset, m.length));
    port.postMessage({ seq: m.seq } satisfies HashReply);
  } else {
    hashes.delete(m.file);
    port.postMessage({ seq: m.seq, digest: hash.digest('hex') } satisfies HashReply);
  }
});
