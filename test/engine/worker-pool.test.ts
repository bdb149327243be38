/**
 * The pipeline workers' pool: close asks each thread to end and waits for it, never terminates
 * one (a thread stopped inside zstd-napi, loading it or in a call, aborts the whole process
 * under Node 24).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sealBlob } from '../../src/repo/blob.js';
import { makeCodecSet } from '../../src/repo/codec/all.js';
import { sha256 } from '../../src/repo/crypto.js';
import type { ReplyOf } from '../../src/engine/pipeline-protocol.js';
import { startWorkerPool } from '../../src/engine/worker-pool.js';

const key = randomBytes(32);
const codecs = makeCodecSet(3);

test('close waits for the requests in flight: each is answered, none is cut off', async () => {
  const raw = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < raw.length; i += 2) raw.writeUInt16LE(0x3c00 + ((i * 31) % 251), i);
  const { codec, sealed } = sealBlob(key, codecs, raw, { dtype: 'bf16' });
  const pool = startWorkerPool({ key, zstdLevel: 3 }, 2);
  const replies = Array.from({ length: 6 }, () => {
    const buffer = new Uint8Array(sealed).buffer;
    return pool.request<ReplyOf<'opened'>>(pool.pick(), { op: 'open', buffer, blobs: [{ start: 0, length: sealed.length, codec, rawLength: raw.length, id: sha256(raw) }], verify: true }, [buffer]);
  });
  let closed = false;
  const settled = replies.map((r) => r.then((reply) => ({ reply, closed }), (err: Error) => ({ err, closed })));
  await pool.close();
  closed = true;
  for (const outcome of await Promise.all(settled)) {
    assert.ok('reply' in outcome, `a request in flight was cut off: ${'err' in outcome ? outcome.err.message : ''}`);
    assert.equal(outcome.closed, false, 'answered before close resolved');
    assert.equal(outcome.reply.buffer.byteLength, raw.length);
  }
});

test('a pool closed while its threads are still starting: each finishes starting and ends by itself', async () => {
  // A terminated thread ends with exit code 1, which close reports as a failure.
  for (let i = 0; i < 3; i++) {
    const pool = startWorkerPool({ key, zstdLevel: 3 }, 2);
    pool.warmUp();
    await pool.close();
  }
  const unused = startWorkerPool({ key, zstdLevel: 3 }, 2);
  await unused.close(); // never started: nothing to end
});

test('a request after close is refused at once rather than left unanswered', { timeout: 5000 }, async () => {
  const pool = startWorkerPool({ key, zstdLevel: 3 }, 1);
  const worker = pool.pick();
  await pool.close();
  const buffer = new ArrayBuffer(8);
  await assert.rejects(pool.request(worker, { op: 'open', buffer, blobs: [], verify: true }), /closed/);
});
