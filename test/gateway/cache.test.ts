/** The response cache: normalised keys, TTL, LRU bounds, persistence file, replay as a stream. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readCacheFile, writeCacheFile } from '../../src/gateway/cache-file.js';
import { cacheKey } from '../../src/gateway/cache-key.js';
import { createResponseCache } from '../../src/gateway/response-cache.js';
import { completionToSse } from '../../src/gateway/sse.js';

const q = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content }], temperature: 0, ...extra });

describe('cache key', () => {
  it('ignores key order, surrounding whitespace, streaming and user fields', () => {
    const k = cacheKey('chat', q('hi'));
    assert.equal(cacheKey('chat', { temperature: 0, messages: [{ content: '  hi ', role: 'user' }], model: 'm', stream: true, user: 'u1' }), k);
  });

  it('differs by model, messages, sampling parameters and endpoint', () => {
    const k = cacheKey('chat', q('hi'));
    assert.notEqual(cacheKey('chat', q('hello')), k);
    assert.notEqual(cacheKey('chat', q('hi', { model: 'n' })), k);
    assert.notEqual(cacheKey('chat', q('hi', { temperature: 0.7 })), k);
    assert.notEqual(cacheKey('chat', q('hi', { max_tokens: 5 })), k);
    assert.notEqual(cacheKey('completions', q('hi')), k);
  });
});

describe('response cache', () => {
  const entry = (key: string, body = 'x') => ({ key, endpoint: 'chat' as const, body, upstream: 'u' });

  it('expires entries after the TTL', () => {
    const c = createResponseCache({ ttlMs: 100, maxEntries: 10, maxBytes: 1000 });
    c.put(entry('a'), 0);
    assert.equal(c.get('a', 99)?.body, 'x');
    assert.equal(c.get('a', 100), undefined);
    assert.equal(c.stats().entries, 0);
  });

  it('evicts the least recently used entry beyond max_entries or max_bytes', () => {
    const c = createResponseCache({ ttlMs: 1000, maxEntries: 2, maxBytes: 10 });
    c.put(entry('a'), 0);
    c.put(entry('b'), 0);
    c.get('a', 1);
    c.put(entry('c'), 2);
    assert.deepEqual(c.entries().map((e) => e.key).sort(), ['a', 'c']);
    c.put(entry('d', '0123456789'), 3);
    assert.deepEqual(c.entries().map((e) => e.key), ['d'], 'byte bound');
    c.put(entry('e', '0123456789X'), 4);
    assert.equal(c.get('e', 4), undefined, 'an answer bigger than the whole cache is not kept');
  });

  it('persists to a file and restores unexpired entries, skipping damaged lines', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-cache-'));
    try {
      const file = path.join(dir, 'sub', 'cache.jsonl');
      const c = createResponseCache({ ttlMs: 1000, maxEntries: 10, maxBytes: 1000 });
      c.put(entry('old'), 0);
      c.put(entry('new'), 5000);
      await writeCacheFile(file, c.entries());
      await writeFile(file, (await readFile(file, 'utf8')) + '{not json\n');
      const back = createResponseCache({ ttlMs: 1000, maxEntries: 10, maxBytes: 1000 });
      back.restore(await readCacheFile(file), 5500);
      assert.deepEqual(back.entries().map((e) => e.key), ['new']);
      assert.equal(back.get('new', 5999)?.expiresAt, 6000, 'the original expiry is kept');
      assert.deepEqual(await readCacheFile(path.join(dir, 'missing.jsonl')), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('cached answer replayed as a stream', () => {
  it('turns a chat completion into chunks ending with [DONE]', () => {
    const body = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' }] });
    const events = completionToSse(body).trim().split('\n\n').map((e) => e.replace(/^data: /, ''));
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.content, 'hello there');
    assert.equal(chunks[1].choices[0].finish_reason, 'stop');
  });

  it('turns a text completion into text chunks', () => {
    const body = JSON.stringify({ id: 't1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text: 'abc', finish_reason: 'length' }] });
    const chunks = completionToSse(body).trim().split('\n\n').slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    assert.equal(chunks[0].choices[0].text, 'abc');
    assert.equal(chunks[1].choices[0].finish_reason, 'length');
  });
});
