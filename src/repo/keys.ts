/**
 * Keys: the repository's random master key, wrapped by a key derived from a password.
 *
 * A key object `keys/<id>` is plaintext JSON (it must be readable before any key is known):
 *   { "version": 1, "created": ISO time, "host": ..., "user": ...,
 *     "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": base64 },
 *     "data": base64(seal(kdfKey, "key", masterKeyJson)) }
 * Several key objects may wrap the same master key; any one of them opens the repository.
 */
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import os from 'node:os';
import { promisify } from 'node:util';
import { open, seal, sha256Hex } from './crypto.js';
import { FormatError, IntegrityError, WrongPasswordError } from './errors.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

export const KEY_FORMAT_VERSION = 1;

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
}

/** The secrets that open a repository. `data` encrypts every object; ids are never keyed. */
export interface MasterKey {
  data: Buffer;
}

export interface KeyFile {
  version: number;
  created: string;
  host: string;
  user: string;
  kdf: KdfParams;
  data: string;
}

/** scrypt N = 2^17 costs about 0.3 s and 128 MiB here: slow enough to stop guessing, fast enough per command. */
export const DEFAULT_KDF = { N: 1 << 17, r: 8, p: 1 };

export function newMasterKey(): MasterKey {
  return { data: randomBytes(32) };
}

async function deriveKey(password: string, kdf: KdfParams): Promise<Buffer> {
  return scrypt(password, Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + (1 << 20) });
}

export async function wrapMasterKey(master: MasterKey, password: string, work = DEFAULT_KDF): Promise<{ id: string; bytes: Buffer }> {
  const kdf: KdfParams = { name: 'scrypt', ...work, salt: randomBytes(16).toString('base64') };
  const kek = await deriveKey(password, kdf);
  const secret = Buffer.from(JSON.stringify({ data: master.data.toString('base64') }));
  const file: KeyFile = {
    version: KEY_FORMAT_VERSION,
    created: new Date().toISOString(),
    host: os.hostname(),
    user: os.userInfo().username,
    kdf,
    data: seal(kek, 'key', secret).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file, null, 1));
  return { id: sha256Hex(bytes), bytes };
}

export function parseKeyFile(bytes: Buffer, keyId: string): KeyFile {
  let file: KeyFile;
  try {
    file = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FormatError(`key ${keyId.slice(0, 8)} is not valid JSON: the repository is damaged`);
  }
  if (typeof file.version !== 'number' || file.version > KEY_FORMAT_VERSION) {
    throw new FormatError(`key ${keyId.slice(0, 8)} has format version ${file.version}, newer than this lifeboat supports (${KEY_FORMAT_VERSION}): upgrade lifeboat`);
  }
  if (file.kdf?.name !== 'scrypt') throw new FormatError(`key ${keyId.slice(0, 8)} uses an unknown key derivation ${file.kdf?.name}`);
  return file;
}

/** Unwraps the master key, or throws WrongPasswordError when this password does not open this key. */
export async function unwrapMasterKey(file: KeyFile, password: string, keyId: string): Promise<MasterKey> {
  const kek = await deriveKey(password, file.kdf);
  let secret: Buffer;
  try {
    secret = open(kek, 'key', Buffer.from(file.data, 'base64'), `key ${keyId.slice(0, 8)}`);
  } catch (err) {
    if (err instanceof IntegrityError) throw new WrongPasswordError('wrong password: no key of this repository opens with it');
    throw err;
  }
  const parsed = JSON.parse(secret.toString('utf8')) as { data: string };
  return { data: Buffer.from(parsed.data, 'base64') };
}
