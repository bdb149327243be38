/**
 * Deleting on S3. In an unversioned bucket one DeleteObject does it. In a versioned bucket (every
 * Object Lock bucket is one) a plain delete only hides the object behind a delete marker and frees
 * nothing, so every version of the key is deleted by id; a version under retention refuses (403),
 * and delete() then fails with ObjectLockedError saying until when.
 */
import { sdk } from './s3-sdk.js';
import { AccessDeniedError, ObjectLockedError } from './s3-errors.js';
import { s3Request, type S3Context } from './s3-request.js';

export async function deleteObject(ctx: S3Context, key: string, versioned: boolean): Promise<void> {
  if (!versioned) {
    await s3Request(ctx, { operation: 'DELETE', key }, (attempt) =>
      ctx.client.send(new sdk.DeleteObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key }), { abortSignal: attempt.signal }),
    );
    return;
  }
  const locked: string[] = [];
  for (const { versionId } of await versionsOf(ctx, key)) {
    try {
      await s3Request(ctx, { operation: `DELETE version ${versionId} of`, key }, (attempt) =>
        ctx.client.send(new sdk.DeleteObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key, VersionId: versionId }), { abortSignal: attempt.signal }),
      );
    } catch (err) {
      if (!(err instanceof AccessDeniedError)) throw err;
      locked.push(versionId);
    }
  }
  if (locked.length > 0) throw new ObjectLockedError(key, ctx.location, await latestRetention(ctx, key, locked));
}

export interface VersionEntry {
  versionId: string;
  deleteMarker: boolean;
  lastModified: number;
}

/** Every version and delete marker of exactly this key, newest first (S3 lists versions that way). */
export async function versionsOf(ctx: S3Context, key: string): Promise<VersionEntry[]> {
  const fullKey = ctx.prefix + key;
  const ids: VersionEntry[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await s3Request(ctx, { operation: 'list versions of', key }, (attempt) =>
      ctx.client.send(new sdk.ListObjectVersionsCommand({ Bucket: ctx.bucket, Prefix: fullKey, KeyMarker, VersionIdMarker }), { abortSignal: attempt.signal }),
    );
    for (const [entries, deleteMarker] of [[page.Versions ?? [], false], [page.DeleteMarkers ?? [], true]] as const) {
      for (const entry of entries) {
        if (entry.Key === fullKey && entry.VersionId) ids.push({ versionId: entry.VersionId, deleteMarker, lastModified: entry.LastModified?.getTime() ?? 0 });
      }
    }
    const more = page.IsTruncated === true;
    KeyMarker = more ? page.NextKeyMarker : undefined;
    VersionIdMarker = more ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker !== undefined);
  return ids;
}

async function latestRetention(ctx: S3Context, key: string, versionIds: string[]): Promise<Date | undefined> {
  let latest: Date | undefined;
  for (const VersionId of versionIds) {
    const head = await s3Request(ctx, { operation: `HEAD version ${VersionId} of`, key }, (attempt) =>
      ctx.client.send(new sdk.HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key, VersionId }), { abortSignal: attempt.signal }),
    ).catch(() => undefined);
    const until = head?.ObjectLockRetainUntilDate;
    if (until && (!latest || until > latest)) latest = until;
  }
  return latest;
}
