/**
 * Opening, creating and reading a repository: the objects, their names on storage, and the
 * rules every reader applies (an object's id is the SHA-256 of its stored bytes; every sealed
 * object is authenticated).
 */
import type { Storage } from '../storage/storage.js';
import { NotFoundError } from '../storage/errors.js';
import { open, seal, sha256Hex, type SealKind } from './crypto.js';
import { decodeConfig, newConfig, type RepoConfig } from './config.js';
import { FormatError, IntegrityError, NotARepositoryError, LocationNotEmptyError, RepositoryExistsError, WrongPasswordError } from './errors.js';
import { newMasterKey, parseKeyFile, unwrapMasterKey, wrapMasterKey, type KdfWork, type MasterKey } from './keys.js';

export interface Repository {
  storage: Storage;
  key: MasterKey;
  config: RepoConfig;
  /** The key object that opened the repository. */
  keyId: string;
}

/**
 * Content-addressed sealed objects by kind: `job` (records of the scheduler's jobs) and `report`
 * (drill and recovery reports) are the DR plane's history, kept in the repository so that a replica
 * knows it too (docs/format.md, section 14). `forgotten` records the asset versions forget removed, so
 * that a version number is never given again (docs/format.md §9).
 */
export type ObjectKind = 'index' | 'snapshot' | 'lock' | 'job' | 'report' | 'forgotten';
const DIR: Record<ObjectKind | 'key' | 'pack', string> = { index: 'index', snapshot: 'snapshots', lock: 'locks', key: 'keys', pack: 'data', job: 'jobs', report: 'reports', forgotten: 'forgotten' };

export const objectKey = (kind: ObjectKind | 'key', id: string) => `${DIR[kind]}/${id}`;
export const packKey = (id: string) => `data/${id.slice(0, 2)}/${id}`;

export interface InitOptions {
  kdf?: KdfWork;
  config?: Parameters<typeof newConfig>[0];
}

export async function initRepository(storage: Storage, password: string, options: InitOptions = {}): Promise<Repository> {
  if (await storage.head('config')) throw new RepositoryExistsError(`${storage.location} is already a Lifeboat repository: use it as it is, or choose another location for a new one`);
  for await (const _ of storage.list('')) {
    throw new LocationNotEmptyError(`${storage.location} is not empty and not a Lifeboat repository: choose an empty or new location`);
  }
  const key = newMasterKey();
  const config = newConfig(options.config);
  const wrapped = await wrapMasterKey(key, password, options.kdf);
  await storage.put(objectKey('key', wrapped.id), wrapped.bytes, { ifAbsent: true });
  await storage.put('config', seal(key.data, 'config', Buffer.from(JSON.stringify(config))), { ifAbsent: true });
  return { storage, key, config, keyId: wrapped.id };
}

/**
 * A key whose unwrapping started before the repository was listed, from a copy of its key file
 * kept elsewhere (the CLI's local cache): the key derivation's 0.2 s then overlaps start-up.
 */
export interface EarlyKey {
  id: string;
  key: Promise<MasterKey>;
}

/** Starts unwrapping a copy of the key file `id`; the caller has checked that its bytes hash to `id`. */
export function unwrapEarly(bytes: Buffer, id: string, password: string): EarlyKey {
  const key = (async () => unwrapMasterKey(parseKeyFile(bytes, id), password, id))();
  key.catch(() => {}); // awaited only if the repository still has this key
  return { id, key };
}

export interface OpenOptions {
  /** Tried first, and without reading its key file, if the repository still lists it. */
  early?: EarlyKey;
}

export async function openRepository(storage: Storage, password: string, options: OpenOptions = {}): Promise<Repository> {
  const listing = listIds(storage, 'key'); // at the same time as the config, whose error comes first
  listing.catch(() => {});
  const configBytes = await storage.get('config').catch((err) => {
    if (err instanceof NotFoundError) throw new NotARepositoryError(`${storage.location} is not a Lifeboat repository (no config): check the path, or create one with "lifeboat init"`);
    throw err;
  });
  const keyIds = await listing;
  if (keyIds.length === 0) throw new NotARepositoryError(`${storage.location} has no keys: it is damaged or not a Lifeboat repository`);
  const { early } = options;
  const ordered = early && keyIds.includes(early.id) ? [early.id, ...keyIds.filter((id) => id !== early.id)] : keyIds;
  for (const keyId of ordered) {
    try {
      const key = keyId === early?.id ? await early.key : await unwrapMasterKey(parseKeyFile(await storage.get(objectKey('key', keyId)), keyId), password, keyId);
      const config = decodeConfig(open(key.data, 'config', configBytes, 'repository config'));
      return { storage, key, config, keyId };
    } catch (err) {
      if (!(err instanceof WrongPasswordError)) throw err;
    }
  }
  throw new WrongPasswordError(`wrong password for ${storage.location}: none of its ${keyIds.length} key(s) opens with it`);
}

/** Ids of the objects of one kind (keys, indexes, snapshots, locks). */
export async function listIds(storage: Storage, kind: ObjectKind | 'key'): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of storage.list(`${DIR[kind]}/`)) {
    const id = info.key.slice(DIR[kind].length + 1);
    if (/^[0-9a-f]{64}$/.test(id)) ids.push(id);
  }
  return ids;
}

/** Every pack on storage, by id, with its size (whether or not an index lists it). */
export async function storedPacks(repo: Repository): Promise<Map<string, number>> {
  const packs = new Map<string, number>();
  for await (const info of repo.storage.list('data/')) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    if (/^[0-9a-f]{64}$/.test(id)) packs.set(id, info.size);
  }
  return packs;
}

/** Seals and stores a small object; returns its id. */
export async function saveObject(repo: Repository, kind: ObjectKind, plain: Uint8Array): Promise<string> {
  const bytes = seal(repo.key.data, kind as SealKind, plain);
  const id = sha256Hex(bytes);
  await repo.storage.put(objectKey(kind, id), bytes);
  return id;
}

/** Loads, checks the id and opens a small object. */
export async function loadObject(repo: Repository, kind: ObjectKind, id: string): Promise<Buffer> {
  const bytes = await repo.storage.get(objectKey(kind, id));
  if (sha256Hex(bytes) !== id) throw new IntegrityError(`${kind} ${id.slice(0, 12)} does not match its id: its stored bytes are damaged`);
  return open(repo.key.data, kind as SealKind, bytes, `${kind} ${id.slice(0, 12)}`);
}

export { parseJson } from './json.js';
