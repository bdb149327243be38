/** The official openai client talks to the gateway: chat, streaming, completions, embeddings, models. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIError } from 'openai';
import { ask, setup, type Setup } from './harness.js';

describe('gateway with the openai client', () => {
  let s: Setup;
  before(async () => {
    s = await setup([
      { name: 'gpu', role: 'primary', upstreams: ['gpu-a', 'gpu-b'] },
      { name: 'cpu', role: 'degraded', upstreams: ['cpu-a'], models: ['"*": tiny-cpu'] },
    ]);
  });
  after(() => s.stop());

  it('answers a chat completion from the primary group and says so in the headers', async () => {
    const r = await ask(s.client, 'hello');
    assert.match(r.text, /^answer from gpu-[ab]: hello$/);
    assert.equal(r.route, 'primary');
    assert.match(r.upstream ?? '', /^gpu-[ab]$/);
    assert.equal(r.model, 'llama-70b');
  });

  it('balances load across the upstreams of the primary group', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await ask(s.client, `q${i}`)).upstream ?? '');
    assert.deepEqual([...seen].sort(), ['gpu-a', 'gpu-b']);
  });

  it('streams a chat completion chunk by chunk', async () => {
    const { data: stream, response } = await s.client.chat.completions.create({ model: 'llama-70b', messages: [{ role: 'user', content: 'tell me more' }], stream: true }).withResponse();
    assert.equal(response.headers.get('x-lifeboat-route'), 'primary');
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta?.content ?? '');
    assert.ok(pieces.length > 3, `expected several chunks, got ${pieces.length}`);
    assert.match(pieces.join(''), /^answer from gpu-[ab]: tell me more$/);
  });

  it('passes the stream through without buffering: the first chunk arrives long before the last', async () => {
    // Upstream words are 100 ms apart; a buffering proxy would deliver the first one only at the end.
    const slow = await setup([{ name: 'gpu', role: 'primary', upstreams: ['slow-a'] }], '', { chunkIntervalMs: 100 });
    try {
      const t0 = Date.now();
      const stream = await slow.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'one two three four five' }], stream: true });
      const arrivals: number[] = [];
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) arrivals.push(Date.now() - t0);
      assert.equal(arrivals.length, 8, 'one chunk per word of "answer from slow-a: one two three four five"');
      assert.ok(arrivals[0] < 400, `first chunk after ${arrivals[0]} ms (buffered, it would come after ~700 ms)`);
      assert.ok(arrivals.at(-1)! - arrivals[0] >= 600, `chunks spread over ${arrivals.at(-1)! - arrivals[0]} ms as the upstream sent them`);
    } finally {
      await slow.stop();
    }
  });

  it('answers text completions', async () => {
    const { data, response } = await s.client.completions.create({ model: 'llama-70b', prompt: 'complete me' }).withResponse();
    assert.match(data.choices[0].text, /^answer from gpu-[ab]: complete me$/);
    assert.equal(response.headers.get('x-lifeboat-route'), 'primary');
  });

  it('answers embeddings', async () => {
    const { data, response } = await s.client.embeddings.create({ model: 'embed', input: ['one', 'two'] }).withResponse();
    assert.equal(data.data.length, 2);
    assert.equal(data.data[0].embedding.length, 4);
    assert.equal(response.headers.get('x-lifeboat-route'), 'primary');
  });

  it('lists models from the serving upstream', async () => {
    const page = await s.client.models.list();
    assert.match(page.data[0].id, /^gpu-[ab]-model$/);
  });

  it('passes client errors of the upstream through without failing over', async () => {
    s.fakes['gpu-a'].setMode({ kind: 'fail', status: 400 });
    s.fakes['gpu-b'].setMode({ kind: 'fail', status: 400 });
    try {
      const before = s.fakes['cpu-a'].requests;
      await assert.rejects(ask(s.client, 'bad'), (e: unknown) => e instanceof APIError && e.status === 400);
      assert.equal(s.fakes['cpu-a'].requests, before, 'a 400 is the request\'s fault: no fallback');
    } finally {
      s.fakes['gpu-a'].setMode({ kind: 'ok' });
      s.fakes['gpu-b'].setMode({ kind: 'ok' });
    }
  });

  it('rejects a body that is not JSON with a 400 in OpenAI format', async () => {
    const res = await fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', body: '{nope' });
    assert.equal(res.status, 400);
    const j = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(j.error.code, 'invalid_json');
  });
});
