/**
 * The S3 client's own transport for range reads (s3-direct-get.ts), against a real HTTP server
 * that can answer in ways RGW does not on demand: reused and closed keep-alive connections,
 * chunked bodies, bodies longer than announced, heads too large. (Range reads against RGW
 * itself, with faults, are in s3-faults.test.ts and the storage conformance suite.) Over HTTP and
 * over HTTPS, where the reads land in the buffer as OpenSSL decrypts them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { NotFoundError } from '../../src/storage/errors.js';
import { RequestFailedError } from '../../src/storage/retry.js';
import { openS3Storage, type S3Storage } from '../../src/storage/s3.js';
import { TEST_CA_FILE, testServerTls } from '../helpers/tls-front.js';

const OBJECT = randomBytes(3 * 1024 * 1024 + 17);
const FAST = { baseDelayMs: 10, maxDelayMs: 50, idleTimeoutMs: 2000, maxAttempts: 3, maxElapsedMs: 10_000 };

type Answer = 'normal' | 'chunked' | 'too-long' | 'huge-head' | 'close-after';

for (const protocol of ['http', 'https'] as const) describe(`S3 range reads on our own transport (${protocol})`, () => {
  let server: http.Server | https.Server;
  let endpoint: string;
  const seen = { requests: 0, connections: 0 };
  let answer: Answer = 'normal';
  let storage: S3Storage;

  before(async () => {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => respond(req, res, answer);
    server = protocol === 'https' ? https.createServer(testServerTls(), handler) : http.createServer(handler);
    server.on('connection', () => seen.connections++);
    server.on('request', () => seen.requests++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `${protocol}://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const open = (retry = FAST) => {
    const caBundle = protocol === 'https' ? TEST_CA_FILE : undefined;
    storage = openS3Storage('s3://bucket/repo', { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, caBundle, retry }, {});
    seen.requests = 0;
    seen.connections = 0;
    answer = 'normal';
    return storage;
  };
  afterEach(async () => storage?.close());

  const read = (s: S3Storage, offset: number, length: number, into = true) =>
    s.get('data/ab/pack', { offset, length }, into ? new Uint8Array(length + 100) : undefined);
  const expected = (offset: number, length: number) => OBJECT.subarray(offset, offset + length);

  it('reads ranges into the given buffer, over one kept-alive connection', async () => {
    const s = open();
    for (const [offset, length] of [[0, 1], [5, 1_000_000], [OBJECT.length - 3000, 3000], [123_456, 2_500_000]]) {
      assert.ok((await read(s, offset, length)).equals(expected(offset, length)), `range ${offset}+${length}`);
    }
    assert.equal(seen.requests, 4);
    assert.equal(seen.connections, 1);
  });

  it('reads a range in parts from one request, the connection paused between parts and reused after', async () => {
    const s = open();
    const reader = s.readRange!('data/ab/pack', { offset: 100, length: 2_000_000 });
    const parts = [10, 999_990, 1, 999_999].map((n) => new Uint8Array(n));
    for (const part of parts) {
      await reader.readInto(part);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(Buffer.concat(parts).equals(expected(100, 2_000_000)));
    assert.ok((await read(s, 0, 1000)).equals(expected(0, 1000)));
    assert.equal(seen.requests, 2);
    assert.equal(seen.connections, 1);
  });

  it('resumes a range read in parts with a request for the rest when the connection drops', async () => {
    const s = open();
    dropAfter = 1_500_000;
    const reader = s.readRange!('data/ab/pack', { offset: 0, length: 3_000_000 });
    const first = new Uint8Array(1_000_000);
    await reader.readInto(first);
    const rest = new Uint8Array(2_000_000);
    await reader.readInto(rest);
    assert.ok(Buffer.concat([first, rest]).equals(expected(0, 3_000_000)));
    assert.equal(seen.requests, 2);
    assert.equal(lastRange, 'bytes=1000000-2999999', 'the second request asks for the parts not yet read');
  });

  it('streams a range when no buffer is given, and parallel reads each get their own connection', async () => {
    const s = open();
    const ranges = [[0, 700_000], [1_000_000, 900_000], [2_000_000, 64 * 1024 + 1]];
    const bodies = await Promise.all(ranges.map(([o, l]) => read(s, o, l, false)));
    bodies.forEach((b, i) => assert.ok(b.equals(expected(ranges[i][0], ranges[i][1])), `range ${i}`));
    assert.equal(seen.connections, 3);
  });

  it('does not reuse a connection the server said it closes', async () => {
    const s = open();
    answer = 'close-after';
    assert.ok((await read(s, 10, 5000)).equals(expected(10, 5000)));
    assert.ok((await read(s, 20, 5000)).equals(expected(20, 5000)));
    assert.equal(seen.requests, 2, 'no read needed a retry');
    assert.equal(seen.connections, 2);
  });

  it('notices when the server closes an idle connection, and opens a new one', async () => {
    // One attempt only: a read sent on the closed connection would fail.
    const s = open({ ...FAST, maxAttempts: 1 });
    assert.ok((await read(s, 10, 5000)).equals(expected(10, 5000)));
    server.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok((await read(s, 20, 5000)).equals(expected(20, 5000)));
    assert.equal(seen.requests, 2, 'no read needed a retry');
    assert.equal(seen.connections, 2);
  });

  it('sends a request again through node:http when the body is chunked, and gets the same bytes', async () => {
    const s = open();
    answer = 'chunked';
    assert.ok((await read(s, 1000, 200_000)).equals(expected(1000, 200_000)));
    assert.equal(seen.requests, 2);
  });

  it("turns the server's error answer into the storage's error (the SDK parses it)", async () => {
    const s = open();
    await assert.rejects(s.get('data/ab/missing', { offset: 0, length: 10 }, new Uint8Array(10)), NotFoundError);
  });

  it('keeps the announced bytes of a body longer than its Content-Length, and drops that connection', async () => {
    const s = open();
    answer = 'too-long';
    assert.ok((await read(s, 0, 1000)).equals(expected(0, 1000)));
    answer = 'normal';
    assert.ok((await read(s, 1000, 1000)).equals(expected(1000, 1000)));
    assert.equal(seen.connections, 2);
  });

  it('refuses a response head larger than 64 KiB', async () => {
    const s = open();
    answer = 'huge-head';
    await assert.rejects(read(s, 0, 100), (err: unknown) => err instanceof RequestFailedError && /response head .* is larger than 65536 bytes/.test(err.message));
  });
});

/** A minimal S3 server for one object, data/ab/pack in bucket "bucket": answers range GETs. */
let lastRange: string | undefined;
/** When set, the next response breaks off after this many body bytes. */
let dropAfter: number | undefined;
function respond(req: http.IncomingMessage, res: http.ServerResponse, answer: Answer): void {
  lastRange = req.headers.range;
  if (req.url?.split('?')[0] !== '/bucket/repo/data/ab/pack') {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>';
    res.writeHead(404, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
    return;
  }
  const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '') ?? [];
  const body = OBJECT.subarray(Number(from), Number(to) + 1);
  const headers: http.OutgoingHttpHeaders = { 'content-range': `bytes ${from}-${to}/${OBJECT.length}`, etag: '"e"' };
  // node:http frames the body by Content-Length when one is set, and chunks it otherwise.
  if (answer === 'chunked') {
    res.writeHead(206, headers);
    res.write(body.subarray(0, 1000));
    res.end(body.subarray(1000));
    return;
  }
  if (answer === 'too-long') {
    // Announce the range, send more: only a raw socket can do that.
    const head = `HTTP/1.1 206 Partial Content\r\ncontent-length: ${body.length}\r\ncontent-range: bytes ${from}-${to}/${OBJECT.length}\r\n\r\n`;
    req.socket.write(Buffer.concat([Buffer.from(head), body, Buffer.alloc(50, 1)]));
    return;
  }
  if (answer === 'huge-head') {
    req.socket.write(`HTTP/1.1 206 Partial Content\r\nx-padding: ${'p'.repeat(70 * 1024)}\r\ncontent-length: ${body.length}\r\n\r\n`);
    return;
  }
  res.writeHead(206, { ...headers, 'content-length': body.length, ...(answer === 'close-after' ? { connection: 'close' } : {}) });
  if (dropAfter !== undefined) {
    res.write(body.subarray(0, dropAfter), () => req.socket.destroy());
    dropAfter = undefined;
    return;
  }
  res.end(body);
}
