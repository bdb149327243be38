/**
 * Keys: the repository's random master key, wrapped by a key derived from a password.
 *
 * A key object `keys/<id>` is plaintext JSON (it must be readable before any key is known):
 *   { "version": 1, "created": ISO time, "host": ..., "user": ...,
 *     "kdf": { "name": "scrypt-lanes", "N": 65536, "r": 8, "p": 1, "lanes": 2, "salt": base64 },
 *     "data": base64(seal(kdfKey, "key", masterKeyJson)) }
 * Several key objects may wrap the same master key; any one of them opens the repository.
 *
 * Key derivations:
 * - "scrypt": kdfKey = scrypt(password, salt, N, r, p), 32 bytes.
 * - "scrypt-lanes": `lanes` independent scryptings, lane i (from 1) with salt || byte i, run at
 *   once on the thread pool; kdfKey = HKDF-SHA256(lane keys concatenated, salt, "lifeboat kdf lanes").
 *   This is what scrypt's own p does (p independent mixings of independent blocks), but
 *   Node's scrypt runs p's mixings one after the other; lanes use the cores a command has
 *   anyway. N = 2^16 with 2 lanes costs a guesser what N = 2^17, p = 1 costs (OWASP lists the
 *   two as equivalent), and takes half the time here (docs/design-decisions.md).
 */
import { hostName, isoNow } from '../base/clock.js';
import { hkdfSync, randomBytes, scrypt as scryptCb } from 'node:crypto';
import os from 'node:os';
import { promisify } from 'node:util';
import { open, seal, sha256Hex } from './crypto.js';
import { FormatError, IntegrityError, WrongPasswordError } from './errors.js';
import { parseJson } from './json.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

export const KEY_FORMAT_VERSION = 1;

export interface KdfParams {
  name: 'scrypt' | 'scrypt-lanes';
  N: number;
  r: number;
  p: number;
  /** scrypt-lanes only: independent scryptings run at once. */
  lanes?: number;
  salt: string;
}

/** The cost of a key derivation; `lanes` above 1 means scrypt-lanes. */
export interface KdfWork {
  N: number;
  r: number;
  p: number;
  lanes?: number;
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

/**
 * Two lanes of scrypt N = 2^16 (64 MiB each): a guess costs 128 MiB of memory-hard work, as
 * N = 2^17 did, and on two cores a command waits 0.2 s for it instead of 0.4 s.
 */
export const DEFAULT_KDF: KdfWork = { N: 1 << 16, r: 8, p: 1, lanes: 2 };
const LANES_INFO = 'lifeboat kdf lanes';

export function newMasterKey(): MasterKey {
  return { data: randomBytes(32) };
}

async function deriveKey(password: string, kdf: KdfParams): Promise<Buffer> {
  const salt = Buffer.from(kdf.salt, 'base64');
  const run = (laneSalt: Buffer) => scrypt(password, laneSalt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + (1 << 20) });
  if (kdf.name === 'scrypt') return run(salt);
  const lanes = await Promise.all(Array.from({ length: kdf.lanes! }, (_, i) => run(Buffer.concat([salt, Buffer.of(i + 1)]))));
  return Buffer.from(hkdfSync('sha256', Buffer.concat(lanes), salt, LANES_INFO, 32));
}

export async function wrapMasterKey(master: MasterKey, password: string, work: KdfWork = DEFAULT_KDF): Promise<{ id: string; bytes: Buffer }> {
  const { N, r, p, lanes = 1 } = work;
  const salt = randomBytes(16).toString('base64');
  const kdf: KdfParams = lanes > 1 ? { name: 'scrypt-lanes', N, r, p, lanes, salt } : { name: 'scrypt', N, r, p, salt };
  const kek = await deriveKey(password, kdf);
  const secret = Buffer.from(JSON.stringify({ data: master.data.toString('base64') }));
  const file: KeyFile = {
    version: KEY_FORMAT_VERSION,
    created: isoNow(),
    host: hostName(),
    user: os.userInfo().username,
    kdf,
    data: seal(kek, 'key', secret).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file, null, 1));
  return { id: sha256Hex(bytes), bytes };
}

export function parseKeyFile(bytes: Buffer, keyId: string): KeyFile {
  const file = parseJson<KeyFile>(bytes, `key ${keyId.slice(0, 8)}`, 'the repository is damaged');
  if (typeof file.version !== 'number' || file.version > KEY_FORMAT_VERSION) {
    throw new FormatError(`key ${keyId.slice(0, 8)} has format version ${file.version}, newer than this lifeboat supports (${KEY_FORMAT_VERSION}): upgrade lifeboat`);
  }
  const kdf = file.kdf;
  if (kdf?.name !== 'scrypt' && kdf?.name !== 'scrypt-lanes') throw new FormatError(`key ${keyId.slice(0, 8)} uses an unknown key derivation ${kdf?.name}: upgrade lifeboat`);
  if (kdf.name === 'scrypt-lanes' && !(Number.isInteger(kdf.lanes) && kdf.lanes! >= 1 && kdf.lanes! <= 64)) {
    throw new FormatError(`key ${keyId.slice(0, 8)} has an invalid lane count ${kdf.lanes}: the repository is damaged`);
  }
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
  const parsed = parseJson<{ data: string }>(secret, `the master key in key ${keyId.slice(0, 8)}`, 'the repository is damaged');
  return { data: Buffer.from(parsed.data, 'base64') };
}
