/** The gateway: section of lifeboat.yaml: defaults, durations, secrets from the environment, and errors with line and key. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { GatewayConfigError } from '../../src/gateway/errors.js';
import { loadGatewayConfig, parseGatewayConfig } from '../../src/gateway/load-config.js';

const VALID = `
repositories: {}          # other sections belong to other parts of lifeboat
gateway:
  listen: 0.0.0.0:9000
  health_check: { interval: 2s, timeout: 500ms }
  groups:
    - name: gpu
      role: primary
      models: { llama-70b: meta-llama/Llama-3.1-70B }
      upstreams:
        - { name: vllm-a, url: "http://10.0.0.1:8000/v1/", api_key_env: VLLM_KEY }
    - name: cpu
      role: degraded
      models: { "*": qwen2.5-1.5b }
      probe: { endpoint: completions }
      upstreams:
        - { name: llama-cpp, url: "http://10.0.0.9:8080" }
  cache: { path: state/cache.jsonl, ttl: 12h, warm_file: common.jsonl }
`;

function issuesOf(text: string) {
  try {
    parseGatewayConfig(text, '/etc/lifeboat/lifeboat.yaml', {});
  } catch (e) {
    assert.ok(e instanceof GatewayConfigError, String(e));
    return { issues: e.issues, message: e.message };
  }
  assert.fail('expected a GatewayConfigError');
}

describe('gateway configuration', () => {
  it('normalises a valid section: defaults, durations, model maps, secrets, paths', () => {
    const c = parseGatewayConfig(VALID, '/etc/lifeboat/lifeboat.yaml', { VLLM_KEY: 'sk-1', LIFEBOAT_GATEWAY_TOKEN: 'adm' });
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 9000 });
    assert.equal(c.healthCheck.intervalMs, 2000);
    assert.equal(c.healthCheck.timeoutMs, 500);
    assert.equal(c.healthCheck.healthyThreshold, 2);
    assert.equal(c.retries.maxAttempts, 3);
    assert.equal(c.adminToken, 'adm');
    const [gpu, cpu] = c.groups;
    assert.equal(gpu.upstreams[0].url, 'http://10.0.0.1:8000', 'a trailing /v1/ is dropped: endpoints add it');
    assert.equal(gpu.upstreams[0].apiKey, 'sk-1');
    assert.deepEqual(gpu.upstreams[0].probe, { endpoint: 'chat', model: 'meta-llama/Llama-3.1-70B' });
    assert.deepEqual(cpu.upstreams[0].probe, { endpoint: 'completions', model: 'qwen2.5-1.5b' });
    assert.equal(c.cache?.ttlMs, 12 * 3600_000);
    assert.equal(c.cache?.path, '/etc/lifeboat/state/cache.jsonl');
    assert.equal(c.cache?.warmFile, '/etc/lifeboat/common.jsonl');
  });

  it('names the line and key of a bad value', () => {
    const { issues, message } = issuesOf(VALID.replace('"http://10.0.0.9:8080"', '"ftp://x"'));
    assert.equal(issues.length, 1);
    assert.equal(issues[0].key, 'gateway.groups[1].upstreams[0].url');
    assert.equal(issues[0].line, 17);
    assert.match(message, /lifeboat\.yaml:17: gateway\.groups\[1\]\.upstreams\[0\]\.url: must be an http/);
  });

  it('rejects unknown keys and bad durations, all in one report', () => {
    const text = VALID.replace('interval: 2s', 'interval: soon').replace('listen: 0.0.0.0:9000', 'listen: 0.0.0.0:9000\n  retrys: 3');
    const { issues } = issuesOf(text);
    assert.deepEqual(issues.map((i) => i.key).sort(), ['gateway.health_check.interval', 'gateway.retrys']);
    // An unknown key is reported at its own line.
    assert.match(issues.find((i) => i.key === 'gateway.retrys')!.message, /retrys/);
    assert.equal(issues.find((i) => i.key === 'gateway.retrys')!.line, text.split('\n').findIndex((l) => l.includes('retrys')) + 1);
    assert.equal(issues.find((i) => i.key === 'gateway.health_check.interval')!.line, 6);
  });

  it('requires exactly one primary group', () => {
    const { issues } = issuesOf(VALID.replace('role: primary', 'role: standby'));
    assert.equal(issues[0].key, 'gateway.groups');
    assert.equal(issues[0].line, 6 + 1);
    assert.match(issues[0].message, /exactly one group must have role: primary \(found 0\)/);
  });

  it('rejects duplicate upstream names and probes without a model', () => {
    const text = VALID.replace('name: llama-cpp', 'name: vllm-a').replace('models: { "*": qwen2.5-1.5b }', '');
    const { issues } = issuesOf(text);
    assert.ok(issues.some((i) => i.key === 'gateway.groups[1].upstreams[0].name' && /used twice/.test(i.message)));
    assert.ok(issues.some((i) => i.key === 'gateway.groups[1].upstreams[0]' && /probe needs a model/.test(i.message)));
  });

  it('reports YAML syntax errors with their line, and a missing section', () => {
    const bad = issuesOf('gateway:\n  listen: [oops\n');
    assert.ok(bad.issues[0].line !== undefined);
    assert.match(issuesOf('repositories: {}\n').message, /no gateway: section/);
  });

  it('names an api_key_env whose variable is not set', () => {
    const { issues } = issuesOf(VALID);
    assert.equal(issues.length, 1);
    assert.equal(issues[0].key, 'gateway.groups[0].upstreams[0].api_key_env');
    assert.equal(issues[0].line, 11);
    assert.match(issues[0].message, /VLLM_KEY is not set/);
  });

  it('accepts the example of docs/gateway.md as written', async () => {
    const doc = await readFile('docs/gateway.md', 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1];
    const c = parseGatewayConfig(yaml, '/etc/lifeboat/lifeboat.yaml', { VLLM_A2_KEY: 'k' });
    assert.deepEqual(c.groups.map((g) => `${g.name}:${g.role}`), ['gpu-rack-a:primary', 'gpu-rack-b:standby', 'cpu-fallback:degraded']);
    assert.equal(c.cache?.warmFile, '/etc/lifeboat/common-queries.jsonl');
  });

  it('says which file it could not read', async () => {
    await assert.rejects(loadGatewayConfig('/nonexistent/lifeboat.yaml'), (e: unknown) => e instanceof GatewayConfigError && /cannot read \/nonexistent\/lifeboat.yaml/.test(e.message));
  });
});
