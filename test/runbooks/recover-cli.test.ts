/**
 * `lifeboat recover` as scripts see it: the report document, exit 1 on a failed step with the
 * state kept, `--resume` from the failed step (the steps before it not run again), exit 4 over the
 * RTO; a recovery or drill of latest refused while a snapshot object cannot be read (it may be
 * the newest), unless --skip-damaged; and `runDrill`, as the scheduler calls it, resolving with a
 * failed report when the repository cannot be reached.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../src/base/clock.js';
import { readConfigFile } from '../../src/control/config-file.js';
import { planOf } from '../../src/control/plan.js';
import type { Report } from '../../src/control/reports.js';
import { runDrill } from '../../src/control/runbook-run.js';
import { runbooksOf } from '../../src/control/runbooks.js';
import { objectKey, openRepository } from '../../src/repo/repository.js';
import { openStorage } from '../../src/storage/open.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { generateModel } from './site.js';

async function site(t: Parameters<typeof tempDir>[0], runbook: string, rto = '10m') {
  const dir = await tempDir(t, 'lifeboat-recover-');
  const model = path.join(dir, 'srv/llama');
  await generateModel(model, 5e5);
  await createRepo(path.join(dir, 'repo'));
  const config = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(
    config,
    `repositories:\n  primary: { url: ${dir}/repo, role: primary }\nassets:\n  llama: { kind: model, tier: 1, rto: ${rto}, source: { path: ${model} }, runbook: rb }\nrunbooks:\n  rb:\n    scratch_root: ${dir}/scratch\n    steps:\n${runbook}`,
  );
  const env = { LIFEBOAT_CONFIG: config, LIFEBOAT_STATE_DIR: path.join(dir, 'state'), LIFEBOAT_REPOSITORY: undefined };
  const backup = await runCli(['backup', '--asset', 'llama', model], { env });
  assert.equal(backup.code, 0, backup.stderr);
  return { dir, model, config, env };
}

test('a failed step: exit 1 with the state kept; --resume continues from it, the restore not run again', async (t) => {
  const flag = 'ready.flag';
  const s = await site(t, `      - restore: { target: "${'${asset}'}-restored" }\n      - verify: {}\n      - smoke: { run: "test -f ${flag}" }\n      - run: "echo recovered $LIFEBOAT_ASSET from $LIFEBOAT_SNAPSHOT into $LIFEBOAT_RESTORE_DIR drill=$LIFEBOAT_DRILL"\n`);
  const first = await runCliJson<Report>(['recover', 'llama'], { env: s.env });
  assert.equal(first.result.code, 1, first.result.stderr);
  const r1 = first.json;
  assert.deepEqual(r1.steps.map((x) => [x.name, x.status]), [['restore', 'ok'], ['verify', 'ok'], ['smoke', 'failed'], ['run', 'skipped']]);
  assert.equal(r1.error, 'step smoke failed: "test -f ready.flag" exited with status 1');
  assert.match(first.result.stderr, /lifeboat: step smoke failed/);
  const stateFile = path.join(s.dir, 'state', 'runs', 'llama.recovery.json');
  assert.equal((JSON.parse(await fs.readFile(stateFile, 'utf8')) as Report).id, r1.id);
  assert.equal(((await fs.stat(stateFile)).mode & 0o777).toString(8), '600');

  await fs.writeFile(path.join(s.dir, flag), '');
  const second = await runCliJson<Report>(['recover', 'llama', '--resume'], { env: s.env });
  assert.equal(second.result.code, 0, second.result.stderr);
  const r2 = second.json;
  assert.deepEqual([r2.id, r2.revision, r2.verdict, r2.resumed_at.length, r2.started_at], [r1.id, 2, 'met', 1, r1.started_at]);
  assert.deepEqual(r2.steps.slice(0, 2), r1.steps.slice(0, 2), 'restore and verify kept their records: not run again');
  assert.deepEqual(r2.steps.slice(2).map((x) => [x.name, x.status, x.attempts]), [['smoke', 'ok', 1], ['run', 'ok', 1]]);
  assert.equal(r2.steps[3].output_tail, `recovered llama from ${r2.snapshot} into ${path.join(s.dir, 'llama-restored')} drill=0\n`);
  assert.ok(r2.total_seconds >= (Date.parse(r2.finished_at) - Date.parse(r1.started_at)) / 1000 - 0.01, 'the total runs from the first start');
  await assert.rejects(fs.stat(stateFile), 'a run that passed leaves no state');

  const stored = await runCliJson<Report>(['drill', 'report', r1.id], { env: s.env });
  assert.deepEqual([stored.json.revision, stored.json.verdict], [2, 'met'], 'the repository holds the newest revision');
  const nothing = await runCli(['recover', 'llama', '--resume'], { env: s.env });
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /there is no failed recovery of "llama" to resume/);
});

test('every step passed but over the RTO: verdict missed, exit 4', async (t) => {
  const s = await site(t, `      - restore: { target: "${'${asset}'}-restored" }\n      - run: "sleep 1.2"\n`, '1s');
  const { result, json } = await runCliJson<Report>(['recover', 'llama'], { env: s.env });
  assert.equal(result.code, 4, result.stderr);
  assert.deepEqual([json.verdict, json.rto_seconds, json.steps.every((x) => x.status === 'ok')], ['missed', 1, true]);
  assert.ok(json.total_seconds > 1.2);
  assert.match(result.stderr, /every step passed, but the recovery took .* s, more than the RTO of 1 s/);
});

test('a snapshot object that cannot be read: recover, drill and doctor fail on latest (it may be the newest); --skip-damaged drills the newest readable, the report warns', async (t) => {
  const s = await site(t, `      - restore: { target: "${'${asset}'}-restored" }\n      - verify: {}\n    drill: { restore: { target: scratch } }\n`);
  const older = (await runCliJson<Array<{ id: string }>>(['snapshots'], { env: s.env })).json[0].id;
  await fs.writeFile(path.join(s.model, 'README.md'), 'the newer model\n');
  const newer = await runCliJson<{ id: string }>(['backup', '--asset', 'llama', s.model], { env: s.env });
  assert.equal(newer.result.code, 0, newer.result.stderr);
  const storage = await openStorage(path.join(s.dir, 'repo'));
  const key = objectKey('snapshot', newer.json.id);
  await flipByte(storage, key, (await storage.head(key))!.size >> 1, 0x01);

  for (const args of [['recover', 'llama'], ['drill', '--asset', 'llama']]) {
    const { result, json } = await runCliJson<Report>(args, { env: s.env });
    assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`);
    assert.equal(json.verdict, 'failed');
    assert.equal(json.snapshot, null, 'no snapshot chosen');
    assert.ok(json.steps.every((x) => x.status !== 'ok'), 'nothing restored');
    const check = json.preflight.find((c) => c.check === 'snapshot')!;
    assert.equal(check.status, 'fail');
    assert.match(check.message, new RegExp(`cannot tell which snapshot "llama@latest" is: .* cannot be read \\(${newer.json.id.slice(0, 12)}\\)`));
  }
  await assert.rejects(fs.stat(path.join(s.dir, 'llama-restored')), 'the recovery restored no older model');

  const doctor = await runCliJson<{ checks: Array<{ check: string; status: string; message: string }> }>(['doctor'], { env: s.env });
  assert.equal(doctor.result.code, 1, doctor.result.stderr);
  const found = doctor.json.checks.find((c) => c.check === 'snapshots');
  assert.equal(found?.status, 'fail', JSON.stringify(doctor.json.checks));
  assert.match(found!.message, /1 snapshot object\(s\) .* cannot be read .*--skip-damaged/);

  const skipped = await runCliJson<Report>(['drill', '--asset', 'llama', '--skip-damaged'], { env: s.env });
  assert.equal(skipped.result.code, 0, skipped.result.stderr);
  assert.equal(skipped.json.snapshot, older);
  const warned = skipped.json.preflight.filter((c) => c.check === 'snapshot' && c.status === 'warn');
  assert.equal(warned.length, 1, JSON.stringify(skipped.json.preflight));
  assert.match(warned[0].message, new RegExp(`"llama@latest" is ${older.slice(0, 12)} .*were skipped \\(--skip-damaged\\)`));

  const named = await runCliJson<{ snapshot: string; error: string | null }>(['recover', 'llama', '--snapshot', 'v1', '--dry-run'], { env: s.env });
  assert.equal(named.result.code, 0, named.result.stderr);
  assert.deepEqual([named.json.snapshot, named.json.error], [older, null], 'a version named needs no flag');
});

test('runDrill resolves with a failed report when the repository does not answer: nothing run, the reason given', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(
    file,
    `repositories:\n  primary: { url: "s3://unreachable-bucket/lifeboat", role: primary, s3: { endpoint: "http://127.0.0.1:1", region: us-east-1 } }\nassets:\n  llama: { kind: model, tier: 1, source: { path: ${dir}/llama } }\n`,
  );
  const config = await readConfigFile(file, '');
  const plan = planOf(config);
  const events: string[] = [];
  const open = async () => openRepository(await openStorage(plan.primary!.url, { s3: { ...plan.primary!.s3, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } } }), TEST_PASSWORD);
  const report = await runDrill({ plan, runbooks: runbooksOf(config), openRepository: open, clock: systemClock, reportDir: path.join(dir, 'reports'), onEvent: (e) => e.type === 'note' && events.push(e.message) }, 'llama', { seed: 3 });
  assert.equal(report.verdict, 'failed');
  assert.deepEqual(report.steps, []);
  assert.deepEqual(report.preflight.map((c) => [c.check, c.status]), [['repository', 'fail']]);
  assert.match(report.error!, /^preflight failed: s3:\/\/unreachable-bucket\/lifeboat is not reachable: .*ECONNREFUSED.*; check the network path and the endpoint/);
  assert.equal(report.seed, 3);
  assert.deepEqual(await fs.readdir(path.join(dir, 'reports')), [`${report.id}.html`, `${report.id}.json`, `${report.id}.md`].sort(), 'written locally, the repository being out of reach');
  assert.match(events.join('\n'), /report written to/);
  const unknown = await runDrill({ plan, openRepository: open, clock: systemClock }, 'nope');
  assert.deepEqual([unknown.verdict, unknown.error], ['failed', `no asset "nope" in ${file} (it has llama)`]);
});
