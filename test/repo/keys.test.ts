/**
 * Key objects and their key derivations (src/repo/keys.ts), as the format documents them: a
 * master key wrapped with the default "scrypt-lanes" opens with its password and only with it,
 * keys with plain "scrypt" still open, and damaged derivation parameters are refused.
 */
import assert from 'node:assert/strict';
import { hkdfSync, scryptSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { open } from '../../src/repo/crypto.js';
import { FormatError, WrongPasswordError } from '../../src/repo/errors.js';
import { DEFAULT_KDF, newMasterKey, parseKeyFile, unwrapMasterKey, wrapMasterKey } from '../../src/repo/keys.js';

/** Lanes as the default has them, at a cost tests can afford. */
const CHEAP_LANES = { N: 1024, r: 8, p: 1, lanes: 2 };

describe('key objects', () => {
  it('wrap the master key with two lanes of scrypt N = 2^16 by default', async () => {
    assert.deepEqual(DEFAULT_KDF, { N: 65536, r: 8, p: 1, lanes: 2 });
    const master = newMasterKey();
    const { id, bytes } = await wrapMasterKey(master, 'right');
    const file = parseKeyFile(bytes, id);
    assert.equal(file.kdf.name, 'scrypt-lanes');
    assert.equal(file.kdf.lanes, 2);
    assert.deepEqual((await unwrapMasterKey(file, 'right', id)).data, master.data);
    await assert.rejects(unwrapMasterKey(file, 'wrong', id), WrongPasswordError);
  });

  it('derive the lanes key as documented: HKDF-SHA256 over scrypt(password, salt || i) for each lane', async () => {
    const { id, bytes } = await wrapMasterKey(newMasterKey(), 'pw', CHEAP_LANES);
    const file = parseKeyFile(bytes, id);
    const salt = Buffer.from(file.kdf.salt, 'base64');
    const lane = (i: number) => scryptSync('pw', Buffer.concat([salt, Buffer.of(i)]), 32, { N: 1024, r: 8, p: 1 });
    const kek = Buffer.from(hkdfSync('sha256', Buffer.concat([lane(1), lane(2)]), salt, 'lifeboat kdf lanes', 32));
    assert.doesNotThrow(() => open(kek, 'key', Buffer.from(file.data, 'base64'), 'key'));
    const oneLane = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
    assert.throws(() => open(oneLane, 'key', Buffer.from(file.data, 'base64'), 'key'), 'plain scrypt must not open a lanes key');
  });

  it('written with plain scrypt (one lane) still open', async () => {
    const master = newMasterKey();
    const { id, bytes } = await wrapMasterKey(master, 'pw', { N: 1024, r: 8, p: 1 });
    const file = parseKeyFile(bytes, id);
    assert.equal(file.kdf.name, 'scrypt');
    assert.equal(file.kdf.lanes, undefined);
    assert.deepEqual((await unwrapMasterKey(file, 'pw', id)).data, master.data);
  });

  it('with an unknown derivation or a bad lane count are refused as damaged or too new', async () => {
    const { id, bytes } = await wrapMasterKey(newMasterKey(), 'pw', CHEAP_LANES);
    const edit = (change: (kdf: Record<string, unknown>) => void) => {
      const json = JSON.parse(bytes.toString());
      change(json.kdf);
      return Buffer.from(JSON.stringify(json));
    };
    assert.throws(() => parseKeyFile(edit((k) => (k.name = 'argon2id')), id), (err: unknown) => err instanceof FormatError && /unknown key derivation argon2id: upgrade lifeboat/.test(err.message));
    for (const lanes of [0, 1.5, 1000, undefined]) {
      assert.throws(() => parseKeyFile(edit((k) => (k.lanes = lanes)), id), (err: unknown) => err instanceof FormatError && /invalid lane count/.test(err.message), `lanes ${lanes}`);
    }
  });
});
