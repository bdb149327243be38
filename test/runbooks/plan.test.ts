/** planRunbook: pure; variables filled in everywhere they may be, the restore directory decided, and drills kept off production paths. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/control/config-file.js';
import { planRunbook, UnsafeDrillError } from '../../src/control/runbook-plan.js';
import { runbookFor, runbooksOf } from '../../src/control/runbooks.js';
import { planOf } from '../../src/control/plan.js';

const TEXT = `
repositories:
  primary: { url: /srv/lifeboat, role: primary }
runbooks:
  serve:
    scratch_root: scratch
    steps:
      - restore: { target: "models/\${asset}" }
      - deploy: { run: "deploy \${asset} \${restore_dir} \${snapshot} \${HOME}" }
      - smoke: { http: { url: "http://127.0.0.1:8000/\${asset}", headers: { x-asset: "\${asset}" }, json: { model: "\${asset}", n: [1, "\${snapshot}"] }, expect_body_contains: "\${asset}" } }
      - notify: { webhook: "https://hooks.internal/\${asset}" }
    drill:
      restore: { target: scratch }
      notify: skip
assets:
  llama: { kind: model, tier: 1, source: { path: /srv/models/llama }, runbook: serve }
  multi: { kind: dataset, tier: 2, source: { path: [/data/a, /data/b] } }
`;

const config = parseConfigText(TEXT, '/etc/lifeboat/lifeboat.yaml');
const runbooks = runbooksOf(config);
const serve = runbooks.runbooks.get('serve')!;
const vars = { asset: 'llama', snapshot: 'abc123', scratchDir: '/etc/lifeboat/scratch/llama-1' };

test('a recovery: relative targets from the file\'s folder, every text variable filled in, ${HOME} left to the shell', () => {
  const plan = planRunbook(serve, 'recovery', vars);
  assert.equal(plan.restoreDir, '/etc/lifeboat/models/llama');
  assert.equal(plan.scratch, false);
  assert.deepEqual(plan.vars, { asset: 'llama', snapshot: 'abc123', restore_dir: '/etc/lifeboat/models/llama' });
  const [restore, deploy, smoke, notify] = plan.steps;
  assert.equal(restore.restore!.target, '/etc/lifeboat/models/llama');
  assert.deepEqual(deploy.action, { type: 'run', command: 'deploy llama /etc/lifeboat/models/llama abc123 ${HOME}' });
  assert.ok(smoke.action?.type === 'http');
  assert.equal(smoke.action.request.url, 'http://127.0.0.1:8000/llama');
  assert.deepEqual(smoke.action.request.headers, { 'x-asset': 'llama' });
  assert.deepEqual(smoke.action.request.json, { model: 'llama', n: [1, 'abc123'] });
  assert.equal(smoke.action.request.expectBodyContains, 'llama');
  assert.equal(notify.webhook, 'https://hooks.internal/llama');
  assert.equal(serve.steps.recovery[1].action?.type === 'run' && serve.steps.recovery[1].action.command, 'deploy ${asset} ${restore_dir} ${snapshot} ${HOME}', 'the runbook itself is not changed');
});

test('a drill: the scratch directory, the skips, and the same variables', () => {
  const plan = planRunbook(serve, 'drill', vars);
  assert.equal(plan.restoreDir, '/etc/lifeboat/scratch/llama-1');
  assert.equal(plan.scratch, true);
  assert.deepEqual(plan.steps.map((s) => [s.name, s.skip]), [['restore', false], ['deploy', false], ['smoke', false], ['notify', true]]);
  assert.equal(plan.steps[1].action?.type === 'run' && plan.steps[1].action.command, 'deploy llama /etc/lifeboat/scratch/llama-1 abc123 ${HOME}');
});

test('a drill never restores outside the scratch root or into the asset\'s own paths', () => {
  const inPlace = { ...serve, steps: { ...serve.steps, drill: serve.steps.recovery } };
  assert.throws(() => planRunbook(inPlace, 'drill', vars), (err) => err instanceof UnsafeDrillError && /never touches a production path/.test(err.message));
  const underRoot = { ...serve, scratchRoot: '/srv' };
  const intoSource = { ...underRoot, steps: { ...serve.steps, drill: [{ ...serve.steps.drill[0], restore: { target: '/srv/models/llama' } }] } };
  assert.throws(() => planRunbook(intoSource, 'drill', { ...vars, protectedPaths: ['/srv/models/llama'] }), /holds its source/);
  const beside = { ...underRoot, steps: { ...serve.steps, drill: [{ ...serve.steps.drill[0], restore: { target: '/srv/drills/llama' } }] } };
  assert.equal(planRunbook(beside, 'drill', { ...vars, protectedPaths: ['/srv/models/llama'] }).restoreDir, '/srv/drills/llama');
});

test('the built-in runbook: restore to the source path and verify; several source paths need a runbook to recover', () => {
  const plan = planOf(config);
  const multi = runbookFor(runbooks, plan.assets.find((a) => a.name === 'multi')!, '/etc/lifeboat')!;
  assert.equal(multi.builtIn, true);
  assert.deepEqual(planRunbook(multi, 'drill', { ...vars, asset: 'multi' }).steps.map((s) => s.kind), ['restore', 'verify']);
  assert.throws(() => planRunbook(multi, 'recovery', { ...vars, asset: 'multi' }), /backs up several paths/);
  const single = runbookFor(undefined, { ...plan.assets[0], runbook: undefined }, '/etc/lifeboat')!;
  assert.equal(planRunbook(single, 'recovery', vars).restoreDir, '/srv/models/llama');
});
