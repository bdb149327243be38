/**
 * A fake OpenAI-compatible inference server (vLLM / llama.cpp server stand-in) that tests and the
 * benchmark can tell to fail, hang, slow down, die mid-stream, be killed and come back on the same port.
 * Answers say which upstream produced them: "answer from <name>: <last user message>".
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeMode =
  | { kind: 'ok' }
  | { kind: 'fail'; status: number }
  | { kind: 'hang' }
  | { kind: 'slow'; delayMs: number }
  /** Streams: send the first chunk, then cut the connection. */
  | { kind: 'die-mid-stream' };

export interface FakeUpstreamOptions {
  readonly name: string;
  readonly port?: number;
  /** Delay before every answer (simulated generation time). */
  readonly latencyMs?: number;
  /** Streaming: pause between chunks. */
  readonly chunkIntervalMs?: number;
}

export interface FakeUpstream {
  readonly name: string;
  readonly url: string;
  /** Inference requests received, health probes not counted. */
  readonly requests: number;
  readonly probes: number;
  /** The last non-probe request body. */
  readonly lastBody: Record<string, unknown> | undefined;
  setMode(mode: FakeMode): void;
  /** Simulates the process dying: stops listening and cuts every open connection. */
  kill(): Promise<void>;
  /** Listens again on the same port, in 'ok' mode. */
  revive(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeUpstream(opts: FakeUpstreamOptions): Promise<FakeUpstream> {
  let mode: FakeMode = { kind: 'ok' };
  let requests = 0;
  let probes = 0;
  let lastBody: Record<string, unknown> | undefined;
  const sockets = new Set<Socket>();
  let port = opts.port ?? 0;

  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      const isProbe = isProbeRequest(body);
      if (isProbe) probes++;
      else {
        requests++;
        lastBody = body;
      }
      const m = mode;
      if (m.kind === 'hang') return; // never answer
      if (m.kind === 'fail') return json(res, m.status, { error: { message: `${opts.name} is failing on purpose`, type: 'server_error', code: null } });
      const delay = (m.kind === 'slow' ? m.delayMs : 0) + (isProbe ? 0 : opts.latencyMs ?? 0);
      const answer = () => respond(opts, req.url ?? '', body, res, m.kind === 'die-mid-stream');
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();

  return {
    name: opts.name,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get requests() {
      return requests;
    },
    get probes() {
      return probes;
    },
    get lastBody() {
      return lastBody;
    },
    setMode: (m) => {
      mode = m;
    },
    async kill() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async revive() {
      mode = { kind: 'ok' };
      await listen();
    },
    async close() {
      if (!server.listening) return;
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** The gateway's health probe: a one-token request saying "ping". */
function isProbeRequest(body: Record<string, unknown>): boolean {
  if (body.max_tokens === 1 && (body.prompt === 'ping' || JSON.stringify(body.messages) === '[{"role":"user","content":"ping"}]')) return true;
  return body.input === 'ping';
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function lastUserText(body: Record<string, unknown>): string {
  if (typeof body.prompt === 'string') return body.prompt;
  const msgs = (body.messages as { role: string; content: string }[] | undefined) ?? [];
  return msgs.filter((m) => m.role === 'user').at(-1)?.content ?? '';
}

function respond(opts: FakeUpstreamOptions, url: string, body: Record<string, unknown>, res: http.ServerResponse, dieMidStream: boolean): void {
  const model = String(body.model ?? 'fake-model');
  const created = Math.floor(Date.now() / 1000);
  if (url.startsWith('/v1/models')) return json(res, 200, { object: 'list', data: [{ id: `${opts.name}-model`, object: 'model', created, owned_by: opts.name }] });
  if (url.startsWith('/v1/embeddings')) {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    // The openai client asks for base64 (little-endian float32) by default.
    const encode = (v: number[]) => (body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
    const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: encode(embed(String(text), opts.name)) }));
    return json(res, 200, { object: 'list', data, model, usage: { prompt_tokens: 1, total_tokens: 1 } });
  }
  const chat = url.startsWith('/v1/chat/completions');
  const text = `answer from ${opts.name}: ${lastUserText(body)}`;
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-${opts.name}-${created}`;
  if (body.stream !== true) {
    const usage = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };
    if (chat) return json(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage });
    return json(res, 200, { id, object: 'text_completion', created, model, choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }], usage });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const words = text.split(/(?= )/);
  const chunk = (piece: Record<string, unknown>) => `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model, choices: [{ index: 0, ...piece }] })}\n\n`;
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i < words.length) {
      res.write(chunk(chat ? { delta: i === 0 ? { role: 'assistant', content: words[i] } : { content: words[i] }, finish_reason: null } : { text: words[i], finish_reason: null }));
      i++;
      if (dieMidStream && i === 1) return void setTimeout(() => res.socket?.destroy(), 20);
      setTimeout(next, opts.chunkIntervalMs ?? 5);
      return;
    }
    res.write(chunk(chat ? { delta: {}, finish_reason: 'stop' } : { text: '', finish_reason: 'stop' }));
    res.end('data: [DONE]\n\n');
  };
  next();
}

/** A deterministic 4-dimensional vector that differs per upstream, so tests can tell who answered. */
function embed(text: string, name: string): number[] {
  let h = 0;
  for (const ch of text + name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return [0, 1, 2, 3].map((k) => ((h >>> (k * 8)) & 0xff) / 255);
}
