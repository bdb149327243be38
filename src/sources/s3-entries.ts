/**
 * How the objects of a bucket become files of a snapshot: each object (and, with versions, each
 * older version) gets a unique path made from its key, readable where the key allows and changed
 * only where it must ("" / "." / ".." segments, a key that is both an object and a "folder").
 * The manifest, not the path, is what restore puts back: key, version, metadata, ETag, size.
 */

export interface S3Entry {
  key: string;
  versionId?: string;
  /** The current version (or the only one, on an unversioned bucket). */
  latest: boolean;
  /** A delete marker: no content, only recorded (and recreated on a versioned target). */
  deleteMarker?: boolean;
  /** Where its content is in the snapshot; absent for a delete marker. */
  path?: string;
  size: number;
  etag?: string;
  lastModified?: string;
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
}

export interface S3Manifest {
  kind: 's3';
  url: string;
  bucket: string;
  prefix: string;
  versions: boolean;
  objects: S3Entry[];
}

function segment(name: string): string {
  if (name === '') return '~empty';
  if (name === '.') return '~dot';
  if (name === '..') return '~dotdot';
  return name.replace(/\0/g, '~0');
}

/** Hands out unique snapshot paths: no path is used twice, none is both a file and a directory. */
export function makePathAllocator(): (base: string, key: string) => string {
  const kinds = new Map<string, 'file' | 'dir'>();
  const free = (p: string, kind: 'file' | 'dir') => kinds.get(p) === undefined || (kind === 'dir' && kinds.get(p) === 'dir');
  return (base, key) => {
    const parts = key.split('/').map(segment);
    let at = base;
    for (let i = 0; i < parts.length; i++) {
      const kind = i === parts.length - 1 ? 'file' : 'dir';
      let name = parts[i];
      for (let n = 1; !free(`${at}/${name}`, kind); n++) name = `${parts[i]}~${n}`;
      at = `${at}/${name}`;
      kinds.set(at, kind);
    }
    return at;
  };
}

/** An ETag that is the MD5 of the content (single-part uploads), else undefined (multipart: md5-of-md5s). */
export function md5OfEtag(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/"/g, '');
  return bare && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}
