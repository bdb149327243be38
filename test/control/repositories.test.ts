/**
 * The repositories: section of lifeboat.yaml as the commands see it: every S3 key mapped onto the
 * storage's options, paths taken from the file's folder, the primary, and what a bare word means.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/control/config-file.js';
import { ConfigError } from '../../src/control/config-error.js';
import { defaultRepository, namedRepository, repositoriesOf } from '../../src/control/repositories.js';

const YAML = `
repositories:
  primary:
    url: s3://models-backup/lifeboat
    role: primary
    password_file: secrets/primary.password
    s3:
      endpoint: https://rgw-a.internal
      region: eu-central
      path_style: false
      profile: site-a
      max_in_flight: 16
      lock_mode: COMPLIANCE
      ca_bundle: secrets/site-ca.pem
  scratch:
    url: ../scratch
`;

test('maps every key, and takes relative paths from the folder of the file', () => {
  const catalog = repositoriesOf(parseConfigText(YAML, '/etc/lifeboat/lifeboat.yaml'));
  assert.deepEqual(catalog.repositories, [
    {
      name: 'primary',
      url: 's3://models-backup/lifeboat',
      role: 'primary',
      passwordFile: '/etc/lifeboat/secrets/primary.password',
      s3: { endpoint: 'https://rgw-a.internal', region: 'eu-central', forcePathStyle: false, profile: 'site-a', maxInFlight: 16, lockMode: 'COMPLIANCE', caBundle: '/etc/lifeboat/secrets/site-ca.pem' },
    },
    { name: 'scratch', url: '/etc/scratch', role: undefined, passwordFile: undefined, s3: { endpoint: undefined, region: undefined, forcePathStyle: undefined, profile: undefined, maxInFlight: undefined, lockMode: undefined, caBundle: undefined } },
  ]);
  assert.equal(defaultRepository(catalog).name, 'primary');
});

test('a file without the section names no repository, and then none is the default', () => {
  const catalog = repositoriesOf(parseConfigText('gateway: {}\n', 'lifeboat.yaml'));
  assert.deepEqual(catalog.repositories, []);
  assert.throws(() => defaultRepository(catalog), (err: unknown) => err instanceof ConfigError && /names none: use -r\/--repo, set LIFEBOAT_REPOSITORY, or add a repositories: section/.test(err.message));
});

test('the only repository is the default even without role: primary', () => {
  const catalog = repositoriesOf(parseConfigText('repositories:\n  only: { url: /srv/lb }\n', 'lifeboat.yaml'));
  assert.equal(defaultRepository(catalog).url, '/srv/lb');
});

test('a bare word is a name of the file, else an existing directory, else an error; URLs and paths are never names', () => {
  const catalog = repositoriesOf(parseConfigText(YAML, '/etc/lifeboat/lifeboat.yaml'));
  const noDirectories = () => false;
  assert.equal(namedRepository(catalog, 'scratch', noDirectories)?.url, '/etc/scratch');
  assert.equal(namedRepository(catalog, 's3://other/x', noDirectories), undefined);
  assert.equal(namedRepository(catalog, './primary-copy', noDirectories), undefined);
  assert.equal(namedRepository(catalog, 'backups', (p) => p === 'backups'), undefined);
  assert.throws(() => namedRepository(catalog, 'primray', noDirectories), /"primray" is neither a repository of \/etc\/lifeboat\/lifeboat\.yaml \(primary, scratch\) nor a directory here/);
});

test('names and values are checked, with their line', () => {
  const bad = 'repositories:\n  "-x":\n    url: s3://b/p\n  ok:\n    url: s3://b/q\n    s3: { max_in_flight: 0, lock_mode: strict }\n';
  assert.throws(
    () => repositoriesOf(parseConfigText(bad, 'lifeboat.yaml')),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const keys = err.issues.map((i) => `${i.line} ${i.key}`);
      assert.ok(keys.includes('3 repositories.-x'), keys.join('; '));
      assert.ok(keys.includes('6 repositories.ok.s3.max_in_flight'), keys.join('; '));
      assert.ok(keys.includes('6 repositories.ok.s3.lock_mode'), keys.join('; '));
      return true;
    },
  );
});
