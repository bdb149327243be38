/**
 * Preflight checks against real things: repositories on disk and on the test Ceph RGW (its Date
 * header for the clock, wrong credentials refused), the real gateway's admin API, a local HTTP
 * server, PATH, and free space. Each says ok, warn or fail with a sentence that says what to do.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { manualClock, systemClock } from '../../src/base/clock.js';
import { parseGatewayConfig } from '../../src/gateway/load-config.js';
import { startGateway } from '../../src/gateway/gateway.js';
import { defaultPreflightTools, type PreflightTools } from '../../src/control/preflight.js';
import { checkCommand, checkEndpoint, checkGateway, checkSourceTools, commandWord } from '../../src/control/preflight-endpoints.js';
import { checkClockSkew, checkCredentialExpiry, checkRepository } from '../../src/control/preflight-repo.js';
import { checkSpace } from '../../src/control/preflight-space.js';
import type { NamedRepository } from '../../src/control/repositories.js';
import { fetchClient } from '../../src/control/runbook-io.js';
import { initRepository, openRepository } from '../../src/repo/repository.js';
import { openStorage } from '../../src/storage/open.js';
import { createRepo, FAST_KDF, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { bucketForTest, requireRgw, rgwOptions } from '../storage/rgw.js';
import { freePort } from './site.js';

const tools = (over: Partial<PreflightTools> = {}): PreflightTools => ({ ...defaultPreflightTools(systemClock, fetchClient, process.env), ...over });

/** Opens with the test password from `file` when the repository names one, as the CLI would. */
const opener = async (named: NamedRepository) => {
  const password = named.passwordFile ? (await fs.readFile(named.passwordFile, 'utf8')).trim() : TEST_PASSWORD;
  return openRepository(await openStorage(named.url, { s3: named.s3 }), password);
};

test('a local repository: ok; a wrong password, a missing or readable password file, no repository at all', async (t) => {
  const dir = await tempDir(t);
  await createRepo(path.join(dir, 'repo'));
  const file = path.join(dir, 'pw');
  await fs.writeFile(file, TEST_PASSWORD, { mode: 0o600 });
  const named = (over: Partial<NamedRepository>): NamedRepository => ({ name: 'primary', role: 'primary', url: path.join(dir, 'repo'), s3: {}, passwordFile: file, ...over });
  const good = await checkRepository(named({}), opener, tools());
  assert.ok(good.repo);
  assert.deepEqual(good.results.map((r) => [r.check, r.status]), [['password', 'ok'], ['repository', 'ok']]);

  await fs.writeFile(path.join(dir, 'wrong'), 'not it', { mode: 0o600 });
  const wrong = await checkRepository(named({ passwordFile: path.join(dir, 'wrong') }), opener, tools());
  assert.equal(wrong.repo, undefined);
  assert.equal(wrong.results[1].check, 'password');
  assert.match(wrong.results[1].message, /^wrong password for .*: the password \(or password_file\) for primary is not one of its keys/);

  const missing = await checkRepository(named({ passwordFile: path.join(dir, 'gone') }), opener, tools());
  assert.deepEqual(missing.results.map((r) => [r.check, r.status]), [['password', 'fail']]);
  assert.match(missing.results[0].message, /the password file .*gone cannot be read \(ENOENT\): restore it from your secret store/);

  await fs.chmod(file, 0o644);
  const readable = await checkRepository(named({}), opener, tools());
  assert.match(readable.results[0].message, /readable by other users \(mode 644\): chmod 600/);
  assert.equal(readable.results[0].status, 'warn');

  const none = await checkRepository(named({ url: path.join(dir, 'empty'), passwordFile: undefined }), opener, tools());
  assert.deepEqual(none.results.map((r) => [r.check, r.status]), [['repository', 'fail']]);
  assert.match(none.results[0].message, /is not a Lifeboat repository/);
});

test('an S3 repository on the RGW: reachable, its clock compared with the store\'s Date header, wrong credentials refused', async (t) => {
  await requireRgw();
  const bucket = await bucketForTest(t, 'preflight');
  const url = `s3://${bucket}/repo`;
  await initRepository(await openStorage(url, { s3: rgwOptions() }), TEST_PASSWORD, { kdf: FAST_KDF });
  const named: NamedRepository = { name: 'dr-site', role: 'replica', url, s3: rgwOptions() };
  const ok = await checkRepository(named, opener, tools());
  assert.deepEqual(ok.results.map((r) => [r.check, r.subject, r.status]), [['repository', 'dr-site (replica)', 'ok']]);
  const skew = await checkClockSkew(named, tools());
  assert.equal(skew?.status, 'ok', skew?.message);
  assert.match(skew!.message, /agrees with http:\/\/127\.0\.0\.1:7480|s behind|s ahead of/);

  const fast = manualClock(systemClock.now() + 20 * 60_000);
  const off = await checkClockSkew(named, tools({ clock: fast }));
  assert.equal(off?.status, 'fail');
  assert.match(off!.message, /this host's clock is 1[12]\d\d s ahead of .*: S3 refuses requests more than 15 minutes off; fix NTP/);
  const slightly = await checkClockSkew(named, tools({ clock: manualClock(systemClock.now() - 5 * 60_000) }));
  assert.equal(slightly?.status, 'warn');

  const refused = await checkRepository({ ...named, s3: rgwOptions({ credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret-0123456789' } }) }, opener, tools());
  assert.deepEqual(refused.results.map((r) => [r.check, r.status]), [['credentials', 'fail']]);
  assert.match(refused.results[0].message, /^the store refuses the credentials: GET config in s3:\/\/.* was refused: HTTP 403 .*Check AWS_ACCESS_KEY_ID/);
  assert.doesNotMatch(refused.results[0].message, /wrong-secret/);
  assert.equal(await checkClockSkew({ ...named, url: '/srv/local' }, tools()), undefined, 'a local repository has no clock of its own');
});

test('credentials that say when they expire: ok, a warning a week ahead, a failure once expired', () => {
  const now = Date.parse('2025-06-01T00:00:00Z');
  const at = (iso: string) => checkCredentialExpiry(tools({ clock: manualClock(now), env: { AWS_CREDENTIAL_EXPIRATION: iso } }));
  assert.equal(at('2025-07-01T00:00:00Z')?.status, 'ok');
  assert.match(at('2025-06-03T00:00:00Z')!.message, /expire at 2025-06-03T00:00:00.000Z \(in 2.0 days\): renew them/);
  assert.equal(at('2025-05-31T00:00:00Z')?.status, 'fail');
  assert.equal(checkCredentialExpiry(tools({ env: {} })), undefined);
});

test('free space: fits, fits with little to spare, fits only by replacing what is there, does not fit', async (t) => {
  const dir = await tempDir(t);
  const target = path.join(dir, 'models', 'llama');
  const MiB = 1024 * 1024;
  const free = (bytes: number) => tools({ freeBytes: async () => bytes });
  assert.equal((await checkSpace(target, 10 * MiB, 'restoring llama', free(100 * MiB))).status, 'ok');
  assert.match((await checkSpace(target, 10 * MiB, 'restoring llama', free(10.5 * MiB))).message, /fits with less than 10% to spare/);
  const short = await checkSpace(target, 10 * MiB, 'restoring llama', free(4 * MiB));
  assert.equal(short.status, 'fail');
  assert.equal(short.message, `restoring llama needs 10.0 MiB, but ${dir} has 4.0 MiB free: free 6.0 MiB or restore elsewhere`);
  await fs.mkdir(target, { recursive: true });
  await fs.writeFile(path.join(target, 'old.safetensors'), Buffer.alloc(8 * MiB));
  const replacing = await checkSpace(target, 10 * MiB, 'restoring llama', free(4 * MiB));
  assert.equal(replacing.status, 'warn');
  assert.match(replacing.message, /fits only because it replaces the 8.0 MiB there now/);
  const real = await checkSpace(target, 2 ** 60, 'restoring a huge model', tools());
  assert.equal(real.status, 'fail', 'the real filesystem has less than an exbibyte');
});

test('endpoints: a host that does not resolve fails, one that answers any status passes, a silent one warns or fails', async (t) => {
  const server = http.createServer((req, res) => res.writeHead(req.method === 'HEAD' ? 405 : 200).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/completions?token=secret`;
  const ok = await checkEndpoint(url, 'smoke', 'warn', tools());
  assert.deepEqual([ok.status, ok.subject, ok.message], ['ok', `${url.split('?')[0]}?…`, 'the smoke endpoint answers (HTTP 405 to HEAD)']);
  const dns = await checkEndpoint('http://no-such-host.invalid/hooks', 'notify', 'fail', tools());
  assert.equal(dns.status, 'fail');
  assert.match(dns.message, /host no-such-host\.invalid does not resolve/);
  const port = await freePort();
  const closed = await checkEndpoint(`http://127.0.0.1:${port}/v1/completions`, 'smoke', 'warn', tools());
  assert.equal(closed.status, 'warn');
  assert.equal(closed.message, `the smoke endpoint does not answer: HEAD http://127.0.0.1:${port}/v1/completions got no answer: connect ECONNREFUSED 127.0.0.1:${port} (expected if it is the service being recovered)`);
  assert.equal((await checkEndpoint(`http://127.0.0.1:${port}/hook`, 'deploy', 'fail', tools())).status, 'fail');
});

test("the real gateway's admin API: the token accepted and the group known, else what to fix", async (t) => {
  const config = parseGatewayConfig(
    `gateway:\n  groups:\n    - { name: rack-a, role: primary, probe: { model: m }, upstreams: [{ name: a1, url: "http://127.0.0.1:1" }] }\n    - { name: rack-b, role: standby, probe: { model: m }, upstreams: [{ name: b1, url: "http://127.0.0.1:1" }] }\n`,
    '/x/lifeboat.yaml',
    { LIFEBOAT_GATEWAY_TOKEN: 'gw-token' },
  );
  const gw = await startGateway(config, { listen: { host: '127.0.0.1', port: 0 }, log: () => {} });
  t.after(() => gw.close());
  const env = { LIFEBOAT_GATEWAY_TOKEN: 'gw-token' };
  assert.equal((await checkGateway(gw.url, 'rack-b', 'LIFEBOAT_GATEWAY_TOKEN', tools({ env }))).status, 'ok');
  assert.match((await checkGateway(gw.url, 'rack-c', 'LIFEBOAT_GATEWAY_TOKEN', tools({ env }))).message, /has no group "rack-c" \(it has rack-a, rack-b\)/);
  assert.match((await checkGateway(gw.url, 'rack-b', 'LIFEBOAT_GATEWAY_TOKEN', tools({ env: { LIFEBOAT_GATEWAY_TOKEN: 'old' } }))).message, /refuses the token in LIFEBOAT_GATEWAY_TOKEN/);
  assert.match((await checkGateway(gw.url, 'rack-b', 'DR_GW_TOKEN', tools({ env }))).message, /needs the gateway's admin token in DR_GW_TOKEN: set it/);
});

test('commands: on PATH, a builtin, an executable path from the file\'s folder, or what is missing', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'deploy-standby.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await fs.writeFile(path.join(dir, 'not-executable.sh'), '#!/bin/sh\n', { mode: 0o644 });
  const env = { PATH: '/usr/bin:/bin' };
  const check = (line: string) => checkCommand(line, 'deploy', dir, tools({ env }));
  assert.equal(commandWord('FOO=1 BAR=2 exec "systemctl" restart x'), 'systemctl');
  assert.match((await check('sh -c true')).message, /the deploy step's sh is \/usr\/bin\/sh|\/bin\/sh/);
  assert.equal((await check('cd /srv && make')).status, 'ok');
  assert.equal((await check('./deploy-standby.sh /scratch/x')).status, 'ok');
  const notExec = await check('./not-executable.sh');
  assert.deepEqual([notExec.status, notExec.message], ['fail', `the deploy step runs ./not-executable.sh, but ${dir}/not-executable.sh is not an executable file: install it, or give its full path`]);
  assert.equal((await check('vllm-ctl restart')).message, 'the deploy step runs vllm-ctl, but it is in none of the 2 directories of PATH: install it, or give its full path');
});

test('the tools a database source needs, by source kind (pg_dump and pg_restore for postgres)', async () => {
  const found = await checkSourceTools('registry', 'postgres', tools());
  assert.deepEqual(found.map((c) => [c.subject, c.status]), [['pg_dump', 'ok'], ['pg_restore', 'ok']]);
  const missing = await checkSourceTools('registry', 'postgres', tools({ env: { PATH: '/nonexistent' } }));
  assert.equal(missing[0].message, 'registry is a postgres source, and to back up it needs pg_dump on PATH: apt-get install postgresql-client');
  assert.deepEqual(await checkSourceTools('models', 'path', tools()), []);
});
