/**
 * The runbooks: section as lifeboat.yaml writes it: the issue's example normalised (defaults,
 * drill overrides merged), every mistake reported at its line, and what `lifeboat validate` adds
 * (unknown runbooks, drills that would touch a production path).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/control/config-file.js';
import { ConfigError } from '../../src/control/config-error.js';
import { planOf } from '../../src/control/plan.js';
import { checkRunbooks } from '../../src/control/runbook-check.js';
import { runbooksOf, type StepSpec } from '../../src/control/runbooks.js';

const EXAMPLE = `
repositories:
  primary: { url: /srv/lifeboat, role: primary }
runbooks:
  serve-model:
    steps:
      - restore: { target: "/srv/models/\${asset}" }
      - verify: { format: true }
      - deploy: { run: "systemctl restart vllm-\${asset}", timeout: 10m }
      - smoke:  { http: { url: "http://127.0.0.1:8000/v1/completions", method: POST,
                          json: { model: "\${asset}", prompt: "ping", max_tokens: 1 },
                          expect_status: 200, expect_body_contains: "choices", max_latency: 5s },
                  retries: 20, retry_delay: 3s }
      - switch: { gateway: { url: "http://gateway:8089", group: gpu-rack-a } }
      - notify: { webhook: "https://chat.internal/hooks/dr" }
    drill:
      restore: { target: scratch }
      deploy:  { run: "./deploy-standby.sh \${restore_dir}" }
      switch:  skip
assets:
  llama-ft: { kind: model, tier: 1, source: { path: /srv/models/llama-ft }, runbook: serve-model }
`;

function errorsOf(text: string): string[] {
  try {
    runbooksOf(parseConfigText(text, '/etc/lifeboat/lifeboat.yaml'));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.line}: ${i.key}: ${i.message}`);
  }
  return [];
}

test("the issue's runbook: every step normalised, the drill's overrides merged into its own steps", () => {
  const rb = runbooksOf(parseConfigText(EXAMPLE, '/etc/lifeboat/lifeboat.yaml')).runbooks.get('serve-model')!;
  const brief = (s: StepSpec) => [s.name, s.kind, s.skip, s.timeoutMs, s.retries, s.retryDelayMs, s.onFailure];
  assert.deepEqual(rb.steps.recovery.map(brief), [
    ['restore', 'restore', false, undefined, 0, 5000, 'stop'],
    ['verify', 'verify', false, undefined, 0, 5000, 'stop'],
    ['deploy', 'deploy', false, 600_000, 0, 5000, 'stop'],
    ['smoke', 'smoke', false, 60_000, 20, 3000, 'stop'],
    ['switch', 'switch', false, 60_000, 0, 5000, 'stop'],
    ['notify', 'notify', false, 30_000, 0, 5000, 'continue'],
  ]);
  const [restore, verify, deploy, smoke, sw] = rb.steps.recovery;
  assert.deepEqual(restore.restore, { target: '/srv/models/${asset}', snapshot: undefined, subpath: undefined });
  assert.deepEqual(verify.verify, { format: true, sha256: true, rowCounts: true });
  assert.deepEqual(deploy.action, { type: 'run', command: 'systemctl restart vllm-${asset}' });
  assert.deepEqual(smoke.action, {
    type: 'http',
    request: {
      url: 'http://127.0.0.1:8000/v1/completions',
      method: 'POST',
      headers: {},
      json: { model: '${asset}', prompt: 'ping', max_tokens: 1 },
      body: undefined,
      tokenEnv: undefined,
      expectStatus: [200],
      expectBodyContains: 'choices',
      maxLatencyMs: 5000,
    },
  });
  assert.deepEqual(sw.action, { type: 'gateway', url: 'http://gateway:8089', group: 'gpu-rack-a', tokenEnv: 'LIFEBOAT_GATEWAY_TOKEN' });

  const drill = rb.steps.drill;
  assert.equal(drill[0].restore!.target, 'scratch');
  assert.deepEqual(drill[2].action, { type: 'run', command: './deploy-standby.sh ${restore_dir}' });
  assert.equal(drill[2].timeoutMs, 600_000, 'what the override does not name stays');
  assert.deepEqual(drill[3], smoke, 'a step the drill does not name runs as in a recovery');
  assert.equal(drill[4].skip, true);
  assert.equal(rb.steps.recovery[4].skip, false);
});

test('common keys beside the kind or inside it; `- run:` and `- http:` steps; a name overrides by name', () => {
  const rb = runbooksOf(
    parseConfigText(
      `runbooks:
  r:
    steps:
      - restore: { target: /srv/x }
      - run: "./warm.sh"
        timeout: 2m
        on_failure: continue
      - name: probe
        http: { url: "http://127.0.0.1:9/health" }
        retries: 3
      - http: { url: "http://127.0.0.1:9/ready" }
    drill:
      probe: { url: "http://standby:9/health" }
      run: { run: "./warm-standby.sh" }
`,
      '/x/lifeboat.yaml',
    ),
  ).runbooks.get('r')!;
  const [, warm, probe, ready] = rb.steps.recovery;
  assert.deepEqual([warm.name, warm.timeoutMs, warm.onFailure, warm.action], ['run', 120_000, 'continue', { type: 'run', command: './warm.sh' }]);
  assert.deepEqual([probe.name, probe.retries, probe.action?.type === 'http' && probe.action.request.method], ['probe', 3, 'GET']);
  assert.equal(ready.name, 'http');
  const d = rb.steps.drill;
  assert.equal(d[1].action?.type === 'run' && d[1].action.command, './warm-standby.sh');
  assert.equal(d[1].timeoutMs, 120_000);
  assert.equal(d[2].action?.type === 'http' && d[2].action.request.url, 'http://standby:9/health');
  assert.equal(d[2].retries, 3);
  assert.equal(d[3].action?.type === 'http' && d[3].action.request.url, 'http://127.0.0.1:9/ready', 'the override by name leaves the other http step alone');
});

test('mistakes in the schema are reported at their lines: unknown step kinds and keys, bad durations', () => {
  assert.deepEqual(
    errorsOf(`runbooks:
  r:
    steps:
      - restroe: { target: x }
      - restore: { target: x, bogus: 1 }
      - run: "echo hi"
        timeout: 5x
      - {}
`),
    [
      '4: runbooks.r.steps[0].restroe: unknown step kind "restroe": a step is one of restore, verify, deploy, smoke, switch, notify, run, http',
      '5: runbooks.r.steps[1].restore.bogus: Unrecognized key: "bogus"',
      '7: runbooks.r.steps[2].timeout: "5x" is not a duration: write e.g. 30s, 10m or 1h',
      '8: runbooks.r.steps[3]: a step needs one of restore, verify, deploy, smoke, switch, notify, run, http',
    ],
  );
});

test('mistakes in meaning: a switch with nothing to switch, a retried restore, unknown variables, drill keys that name nothing', () => {
  assert.deepEqual(
    errorsOf(`runbooks:
  r:
    steps:
      - switch: { timeout: 5s }
      - verify: {}
      - restore: { target: "/x/\${restore_dir}", retries: 2 }
      - run: "echo \${HOME} \${restore_dir}"
      - http: { url: "http://x/\${foo}" }
      - deploy: { run: a, http: { url: "http://a" } }
    drill:
      deploy: { http: { url: "http://b/\${bar}" } }
      nothing: skip
`),
    [
      '4: runbooks.r.steps[0].switch: a switch step needs a gateway: { url, group }, a run: command or an http: request',
      '6: runbooks.r.steps[2].restore.retries: a restore is not retried (a half-done restore is not safe to start again): use lifeboat recover --resume',
      '9: runbooks.r.steps[5].deploy: a deploy step takes one of run and http, not both',
      '12: runbooks.r.drill.nothing: "nothing" is neither a step name nor a step kind of this runbook (switch, verify, restore, run, http, deploy)',
      '5: runbooks.r.steps[1]: verify checks what a restore step restored: put a restore step before it',
      '6: runbooks.r.steps[2].restore: ${restore_dir} in target is not a variable here (${asset}, ${snapshot})',
      '8: runbooks.r.steps[4].http: ${foo} in http.url is not a variable here (${asset}, ${snapshot}, ${restore_dir})',
      '11: runbooks.r.drill.deploy: ${bar} in http.url is not a variable here (${asset}, ${snapshot}, ${restore_dir})',
    ],
  );
});

test('validate: an asset naming an unknown runbook, and drills that would restore to a production path', () => {
  const text = `
repositories:
  primary: { url: /srv/lifeboat, role: primary }
runbooks:
  in-place:
    steps:
      - restore: { target: "/srv/models/\${asset}" }
  to-scratch-root:
    scratch_root: /scratch
    steps:
      - restore: { target: "/srv/models/\${asset}" }
    drill:
      restore: { target: "/scratch/\${asset}" }
  over-the-source:
    scratch_root: /srv
    steps:
      - restore: { target: scratch }
    drill:
      restore: { target: "/srv/models/\${asset}" }
assets:
  a: { kind: model, tier: 1, source: { path: /srv/models/a }, runbook: in-place }
  b: { kind: model, tier: 1, source: { path: /srv/models/b }, runbook: to-scratch-root }
  c: { kind: model, tier: 1, source: { path: /srv/models/c }, runbook: over-the-source }
  d: { kind: model, tier: 1, source: { path: /srv/models/d }, runbook: nope }
`;
  const config = parseConfigText(text, '/etc/lifeboat/lifeboat.yaml');
  const issues = checkRunbooks(config, planOf(config)).map((i) => `${i.line}: ${i.key}: ${i.message.split(':')[0]}`);
  assert.deepEqual(issues, [
    '7: runbooks.in-place.steps[0].restore: runbook "in-place" would restore to /srv/models/a in a drill of "a"',
    '19: runbooks.over-the-source.drill.restore: a drill of "c" would restore to /srv/models/c, which holds its source /srv/models/c',
    '24: assets.d.runbook: "nope" is not a runbook of the runbooks',
  ]);
  assert.deepEqual(checkRunbooks(parseConfigText(EXAMPLE, '/etc/lifeboat/lifeboat.yaml'), planOf(parseConfigText(EXAMPLE, '/etc/lifeboat/lifeboat.yaml'))), []);
});

test('validate passes on the schema errors with their lines', () => {
  const config = parseConfigText('runbooks:\n  r:\n    steps:\n      - swtich: { gateway: { url: "http://g", group: a } }\n', '/x/lifeboat.yaml');
  assert.deepEqual(
    checkRunbooks(config, planOf(config)).map((i) => [i.line, i.key]),
    [[4, 'runbooks.r.steps[0].swtich']],
  );
});
