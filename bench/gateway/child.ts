/**
 * A benchmark child process, so load generator, gateway and upstreams do not share one event loop:
 *   node child.js upstream <name>          a fake upstream; IPC: {cmd:'kill'} | {cmd:'revive'}
 *   node child.js gateway <config.json>    a gateway started from a normalised GatewayConfig
 * Each sends {ready: true, url} over IPC once listening.
 */
import { readFileSync } from 'node:fs';
import { startGateway } from '../../src/gateway/gateway.js';
import type { GatewayConfig } from '../../src/gateway/config.js';
import { startFakeUpstream } from '../../test/gateway/fake-upstream.js';

const [kind, arg] = process.argv.slice(2);
const send = (m: unknown) => process.send?.(m);

if (kind === 'upstream') {
  const up = await startFakeUpstream({ name: arg });
  process.on('message', (m: { cmd: string; id: number }) => {
    const done = () => send({ id: m.id, ok: true });
    if (m.cmd === 'kill') void up.kill().then(done);
    else if (m.cmd === 'revive') void up.revive().then(done);
  });
  send({ ready: true, url: up.url });
} else if (kind === 'gateway') {
  const config = JSON.parse(readFileSync(arg, 'utf8')) as GatewayConfig;
  const gw = await startGateway(config, { log: (l) => process.stderr.write(`[gateway] ${l}\n`) });
  await gw.health.probeAll();
  send({ ready: true, url: gw.url });
  const stop = () => void gw.close().then(() => process.exit(0));
  process.on('disconnect', stop);
  process.on('SIGINT', stop);
} else {
  process.stderr.write('usage: child.js upstream <name> | gateway <config.json>\n');
  process.exit(2);
}
