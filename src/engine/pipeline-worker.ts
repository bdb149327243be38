/**
 * A pipeline worker: the CPU-heavy part of backup and restore, on its own core.
 * Backup batches arrive as transferred buffers with their chunk spans; the worker hashes them,
 * keeps the buffer until the main thread says which chunks are new, then encodes and seals
 * those into one transferred buffer. Restore ranges arrive sealed and leave as plaintext; copy's
 * ranges are verified and re-sealed in place under the destination's key.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { isZero } from '../repo/chunker/fastcdc.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { encodeBlob, openBlob, resealBlob } from '../repo/blob.js';
import { SEAL_OVERHEAD, sealInto } from '../repo/crypto.js';
import { reusableBuffer } from '../repo/codec/scratch.js';
import { transferable, type ChunkSpan, type WorkerInit, type WorkerMessage, type WorkerReply, type WorkerRequest } from './pipeline-protocol.js';

const init = workerData as WorkerInit;
const key = Buffer.from(init.key);
const codecs = makeCodecSet(init.zstdLevel);
const batches = new Map<number, { data: Buffer; chunks: ChunkSpan[] }>();
/** Decrypted, still encoded bytes of the blob being opened: reused, never fresh pages per blob. */
const opened = reusableBuffer();
/** Plaintext that verifies a blob being re-sealed (copy): nobody reads it afterwards. */
const verified = reusableBuffer();
const port = parentPort!;

type Reply = WorkerReply extends infer R ? (R extends unknown ? Omit<R, 'requestId'> : never) : never;

port.on('message', (msg: WorkerMessage) => {
  if (msg.op === 'close') return port.close();
  try {
    const { reply, transfer } = handle(msg);
    port.postMessage({ ...reply, requestId: msg.requestId }, transfer);
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ op: 'error', name: e.name, code: e.code, message: e.message, requestId: msg.requestId });
  }
});

function handle(msg: WorkerRequest): { reply: Reply; transfer: ArrayBuffer[] } {
  switch (msg.op) {
    case 'hash': {
      const data = Buffer.from(msg.buffer);
      batches.set(msg.batch, { data, chunks: msg.chunks });
      const ids = new Uint8Array(msg.chunks.length * 32);
      const zero = new Uint8Array(msg.chunks.length);
      msg.chunks.forEach((c, i) => {
        if (isZero(data, c.start, c.start + c.length)) zero[i] = 1;
        else ids.set(createHash('sha256').update(data.subarray(c.start, c.start + c.length)).digest(), i * 32);
      });
      return { reply: { op: 'hashed', ids: ids.buffer, zero }, transfer: [ids.buffer] };
    }
    case 'seal': {
      const batch = batches.get(msg.batch)!;
      batches.delete(msg.batch);
      // Seal each blob as soon as it is encoded (a codec's output is only valid until its next
      // encode) straight into one transferable buffer, the recycled one when it is big enough.
      // chooseEncoding never returns more bytes than the plaintext (raw wins ties).
      const bound = msg.select.reduce((n, i) => n + batch.chunks[i].length + SEAL_OVERHEAD, 0);
      const out = Buffer.from(msg.out && msg.out.byteLength >= bound ? msg.out : new ArrayBuffer(bound));
      let at = 0;
      const lengths: number[] = [];
      const codecIds: number[] = [];
      msg.select.forEach((i, k) => {
        const c = batch.chunks[i];
        const base = msg.bases[k];
        const e = encodeBlob(codecs, batch.data.subarray(c.start, c.start + c.length), { dtype: c.dtype, base: base ? new Uint8Array(base) : undefined });
        const n = sealInto(key, 'blob', e.bytes, out, at);
        at += n;
        lengths.push(n);
        codecIds.push(e.codec);
      });
      return { reply: { op: 'sealed', buffer: out.buffer as ArrayBuffer, lengths, codecs: codecIds }, transfer: [out.buffer as ArrayBuffer] };
    }
    case 'drop': {
      batches.delete(msg.batch);
      return { reply: { op: 'dropped' }, transfer: [] };
    }
    case 'open': {
      const data = Buffer.from(msg.buffer);
      const total = msg.blobs.reduce((n, b) => n + b.rawLength, 0);
      const fits = msg.out && msg.out.byteLength >= (msg.outOffset ?? 0) + total;
      const out = fits ? msg.out! : new ArrayBuffer(total);
      let at = fits ? (msg.outOffset ?? 0) : 0;
      for (const b of msg.blobs) {
        const into = new Uint8Array(out, at, b.rawLength);
        openBlob(key, codecs, data.subarray(b.start, b.start + b.length), b, { verify: msg.verify, base: b.base && new Uint8Array(b.base), out: into, scratch: opened });
        at += b.rawLength;
      }
      return {
        reply: { op: 'opened', buffer: out, lengths: msg.blobs.map((b) => b.rawLength) },
        transfer: transferable(out),
      };
    }
    case 'reseal': {
      if (!init.resealKey) throw new Error('reseal: this worker was started without a destination key');
      const data = Buffer.from(msg.buffer);
      for (const b of msg.blobs) {
        resealBlob(key, init.resealKey, codecs, data.subarray(b.start, b.start + b.length), b, { base: b.base && new Uint8Array(b.base), scratch: opened, plaintext: verified });
      }
      return { reply: { op: 'resealed' }, transfer: [] };
    }
  }
}
