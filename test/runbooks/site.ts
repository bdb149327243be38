/**
 * A small site for the runbook tests, made of real parts: a model from the project's generator
 * (bench/gen), a repository with it backed up, inference servers (test/fixtures) and the real
 * `lifeboat gateway` spawned through the CLI, all under one temporary directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSeries } from '../../bench/gen/series.js';
import { BIN } from '../helpers/cli.js';

export const FIXTURE = fileURLToPath(new URL('../fixtures/inference-server.js', import.meta.url));
export const GATEWAY_TOKEN = 'runbook-test-gateway-token';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function waitFor(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A generated Llama-like model (base version only) moved to `dir`: about 2 bytes per parameter. */
export async function generateModel(dir: string, params = 3e6): Promise<void> {
  const out = `${dir}.gen`;
  await generateSeries({ out, params, vocab: 2048, series: ['base'], seed: 11 });
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.rename(path.join(out, 'base'), dir);
  await fs.rm(out, { recursive: true, force: true });
}

/** `lifeboat gateway` as its own process, until `stop`. */
export async function spawnGateway(config: string, port: number): Promise<{ url: string; stop(): Promise<void>; log(): string }> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'gateway', '--config', config, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, LIFEBOAT_GATEWAY_TOKEN: GATEWAY_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 10_000, `the gateway to listen (${log})`);
  return {
    url,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A webhook receiver that keeps what it is sent. */
export async function startWebhook(): Promise<{ url: string; received: unknown[]; close(): Promise<void> }> {
  const received: unknown[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(req.method === 'POST' ? 200 : 405).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Asks the gateway for a completion: which upstream answered, and what. */
export async function askGateway(url: string): Promise<{ status: number; upstream: string | null; text: string }> {
  const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-ft', prompt: 'ping', max_tokens: 1 }) });
  return { status: res.status, upstream: res.headers.get('x-lifeboat-upstream'), text: await res.text() };
}
