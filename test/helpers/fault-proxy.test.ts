/** The fault proxy itself, in front of a plain Node HTTP server: each fault does what it says. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { everyNth, firstN, startFaultProxy, type FaultProxy } from './fault-proxy.js';

const BODY = Buffer.alloc(20_000, 'a');

describe('fault proxy', () => {
  let server: http.Server;
  let proxy: FaultProxy;
  const seenConnectionHeaders: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seenConnectionHeaders.push(String(req.headers.connection));
      req.resume();
      req.on('end', () => res.end(BODY));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    proxy = await startFaultProxy({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const fetchBody = async (init?: RequestInit) => {
    const res = await fetch(proxy.url + '/obj', { ...init, signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };

  it('passes requests through unchanged, one request per connection', async () => {
    proxy.setPlan(undefined);
    const before = proxy.stats.requests;
    for (let i = 0; i < 3; i++) assert.deepEqual(await fetchBody(), { status: 200, body: BODY });
    assert.equal(proxy.stats.requests - before, 3);
    assert.deepEqual(seenConnectionHeaders.slice(-3), ['close', 'close', 'close']);
  });

  it('answers with an S3 error of its own', async () => {
    proxy.setPlan(firstN(1, { kind: 'respond', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }));
    const first = await fetchBody({ method: 'PUT', body: 'payload' });
    assert.equal(first.status, 503);
    assert.match(first.body.toString(), /<Code>SlowDown<\/Code><Message>Please reduce your request rate\.<\/Message>/);
    assert.equal((await fetchBody()).status, 200);
    assert.equal(proxy.stats.injected.respond, 1);
  });

  it('drops a response after the given number of bytes', async () => {
    proxy.setPlan(firstN(1, { kind: 'drop-response', afterBytes: 5000 }));
    await assert.rejects(fetchBody());
    assert.equal(proxy.stats.injected['drop-response'], 1);
  });

  it('drops a request mid-body', async () => {
    proxy.setPlan(firstN(1, { kind: 'drop-request', afterBytes: 300 }));
    await assert.rejects(fetchBody({ method: 'PUT', body: Buffer.alloc(10_000, 'b') }));
    assert.equal(proxy.stats.injected['drop-request'], 1);
  });

  it('stalls a response, so that only the client timeout ends it', async () => {
    proxy.setPlan(firstN(1, { kind: 'stall', afterBytes: 100 }));
    const started = Date.now();
    await assert.rejects(fetch(proxy.url + '/obj', { signal: AbortSignal.timeout(700) }).then((r) => r.arrayBuffer()), /TimeoutError|aborted/i);
    assert.ok(Date.now() - started >= 650);
    assert.equal(proxy.stats.injected.stall, 1);
  });

  it('damages one byte of a response', async () => {
    proxy.setPlan(firstN(1, { kind: 'corrupt-response', atByte: 10_000 }));
    const { body } = await fetchBody();
    assert.equal(body.length, BODY.length);
    assert.equal([...body].filter((b, i) => b !== BODY[i]).length, 1);
  });

  it('resets connections', async () => {
    proxy.setPlan(firstN(1, { kind: 'reset' }));
    await assert.rejects(fetchBody());
    assert.equal(proxy.stats.injected.reset, 1);
  });

  it('plans faults for every nth matching request', async () => {
    proxy.setPlan(everyNth(3, { kind: 'respond', status: 500, code: 'InternalError' }, (r) => r.method === 'GET'));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetchBody()).status);
    await fetchBody({ method: 'PUT', body: 'x' });
    assert.deepEqual(statuses, [200, 200, 500, 200, 200, 500]);
    assert.equal(proxy.stats.injected.respond, 2);
  });
});
