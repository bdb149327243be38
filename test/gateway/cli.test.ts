/** `lifeboat gateway` through commander: starts from lifeboat.yaml, serves, and stops on SIGTERM. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerGateway } from '../../src/cli/commands/gateway.js';
import { GatewayConfigError } from '../../src/gateway/errors.js';
import { startFakeUpstream } from './fake-upstream.js';
import { waitFor } from './harness.js';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function program(): Command {
  const p = new Command().exitOverride();
  registerGateway(p);
  return p;
}

describe('lifeboat gateway command', () => {
  it('serves until SIGTERM, then resolves', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-cli-'));
    const up = await startFakeUpstream({ name: 'u1' });
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    try {
      const file = path.join(dir, 'lifeboat.yaml');
      await writeFile(file, `gateway:\n  groups:\n    - name: g\n      role: primary\n      probe: { model: m }\n      upstreams: [{ name: u1, url: "${up.url}" }]\n`);
      const port = await freePort();
      process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
      const running = program().parseAsync(['node', 'lifeboat', 'gateway', '--config', file, '--listen', `127.0.0.1:${port}`]);
      let stopped = false;
      void running.then(() => (stopped = true));
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 3000, 'the gateway to listen');
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
      assert.equal(res.headers.get('x-lifeboat-upstream'), 'u1');
      assert.equal(stopped, false);
      process.emit('SIGTERM', 'SIGTERM');
      await running;
      assert.match(out.join(''), new RegExp(`listening on http://127.0.0.1:${port}`));
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    } finally {
      process.stdout.write = write;
      await up.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a typed error naming the problem', async () => {
    await assert.rejects(program().parseAsync(['node', 'lifeboat', 'gateway', '--config', '/nonexistent.yaml']), GatewayConfigError);
    await assert.rejects(program().parseAsync(['node', 'lifeboat', 'gateway', '--config', '/x.yaml', '--listen', 'nonsense']), /--listen nonsense is not host:port/);
  });
});
