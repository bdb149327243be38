/**
 * S3 buckets (MLflow's artifact store, a dataset bucket on Ceph or MinIO): every object under a
 * prefix streamed into the snapshot with its metadata; with `versions`, every version and delete
 * marker of a versioned bucket. Each object's size is checked, and its MD5 against the ETag where
 * the ETag is one (single-part uploads), as it is read. Restore (`--to-s3 s3://BUCKET/PREFIX`) puts
 * the objects back with their metadata, older versions first, and checks each ETag and size.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { backupStreams } from '../engine/stream-backup.js';
import { makeLimit } from '../storage/limit.js';
import { parseS3Url, resolveS3Options, type S3Options } from '../storage/s3-options.js';
import { report, type Check, type SourceAdapter, type SourceContext } from './adapter.js';
import type { S3SourceConfig } from './config.js';
import { SourceError, type SourceErrorCode } from './errors.js';
import { openSourceSnapshot, readManifest, sourceRecord } from './manifest.js';
import { makePathAllocator, md5OfEtag, type S3Entry, type S3Manifest } from './s3-entries.js';

const IN_FLIGHT = 4;
/** A single PUT takes at most 5 GiB. */
const MAX_PUT = 5 * 1024 ** 3;

/** The SDK is loaded when an S3 source runs: a few megabytes other sources do not carry. */
type Sdk = (typeof import('../storage/s3-sdk.js'))['sdk'];
let sdk: Sdk;

async function client(options: S3Options, ctx: SourceContext): Promise<S3Client> {
  const [{ createS3Client }, loaded] = await Promise.all([import('../storage/s3-client.js'), import('../storage/s3-sdk.js')]);
  sdk = loaded.sdk;
  return createS3Client(resolveS3Options(options, ctx.env ?? process.env));
}

function s3Error(err: unknown, what: string): SourceError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const code: SourceErrorCode = status === 403 || e.name === 'InvalidAccessKeyId' || e.name === 'SignatureDoesNotMatch' ? 'SOURCE_AUTH' : e.name === 'NoSuchBucket' || status === 404 ? 'SOURCE_NOT_FOUND' : 'SOURCE';
  return new SourceError(code, `${what}: ${e.name ?? 'error'}${e.message ? `: ${e.message}` : ''}`, { cause: err });
}

/** Every object (or version and delete marker) under the prefix, in listing order. */
async function listEntries(s3: S3Client, bucket: string, prefix: string, versions: boolean, what: string): Promise<S3Entry[]> {
  const out: S3Entry[] = [];
  try {
    if (!versions) {
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
        for (const o of page.Contents ?? []) out.push({ key: o.Key!, latest: true, size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified?.toISOString() });
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return out;
    }
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const page = await s3.send(new sdk.ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }));
      for (const v of page.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId, latest: !!v.IsLatest, size: v.Size ?? 0, etag: v.ETag, lastModified: v.LastModified?.toISOString() });
      for (const d of page.DeleteMarkers ?? []) out.push({ key: d.Key!, versionId: d.VersionId, latest: !!d.IsLatest, deleteMarker: true, size: 0, lastModified: d.LastModified?.toISOString() });
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (KeyMarker !== undefined);
    return out;
  } catch (err) {
    throw s3Error(err, what);
  }
}

/** Passes an object's body through, checking its size and (single-part ETag) MD5 at the end. */
async function* checked(body: AsyncIterable<Uint8Array>, entry: S3Entry, where: string): AsyncGenerator<Uint8Array> {
  const md5 = createHash('md5');
  let size = 0;
  for await (const part of body) {
    md5.update(part);
    size += part.length;
    yield part;
  }
  const expected = md5OfEtag(entry.etag);
  if (size !== entry.size) throw new SourceError('SOURCE', `${where}: read ${size} bytes, the listing said ${entry.size} (the object changed while it was read?)`);
  if (expected && md5.digest('hex') !== expected) throw new SourceError('SOURCE', `${where}: its content does not match its ETag ${entry.etag} (changed while read, or damaged in transit)`);
}

/** The order a restore puts entries back in: per key, older versions first, the current one last. */
function restoreOrder(objects: S3Entry[]): S3Entry[] {
  return [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : Number(a.latest) - Number(b.latest) || (a.lastModified ?? '').localeCompare(b.lastModified ?? '')));
}

export const s3Source: SourceAdapter<S3SourceConfig> = {
  kind: 's3',

  async backup(repo, config, options, ctx) {
    const { bucket, prefix } = parseS3Url(config.url);
    const s3 = await client({ endpoint: config.endpoint, profile: config.profile, region: config.region }, ctx);
    try {
      const entries = await listEntries(s3, bucket, prefix, config.versions, `listing ${config.url}`);
      const place = makePathAllocator();
      for (const e of entries) if (!e.deleteMarker) e.path = place(e.latest ? 'objects' : 'versions', e.key.slice(prefix.length) + (e.latest ? '' : `@${e.versionId}`));
      const record = sourceRecord('s3', config.url, { objects: entries.filter((e) => e.latest && !e.deleteMarker).length, versions: config.versions, entries: entries.length, ...(config.endpoint ? { endpoint: config.endpoint } : {}) });
      return await backupStreams(repo, { ...options, location: config.url, record: { ...record, lineage: options.lineage }, workers: ctx.workers, signal: ctx.signal, onProgress: ctx.onProgress, onWarning: ctx.warn }, async (sink) => {
        const limit = makeLimit(IN_FLIGHT);
        let failure: unknown;
        await Promise.all(
          entries.filter((e) => !e.deleteMarker).map((e) =>
            limit.run(async () => {
              if (failure) return;
              const where = `s3://${bucket}/${e.key}${e.versionId && !e.latest ? ` (version ${e.versionId})` : ''}`;
              try {
                const got = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: e.key, VersionId: config.versions ? e.versionId : undefined }), { abortSignal: ctx.signal }).catch((err) => {
                  throw s3Error(err, `reading ${where}`);
                });
                Object.assign(e, { contentType: got.ContentType, contentEncoding: got.ContentEncoding, contentDisposition: got.ContentDisposition, contentLanguage: got.ContentLanguage, cacheControl: got.CacheControl, metadata: got.Metadata, etag: got.ETag ?? e.etag });
                await sink.addStream(e.path!, checked(got.Body as AsyncIterable<Uint8Array>, e, where), { mode: 0o644, mtimeMs: e.lastModified ? Date.parse(e.lastModified) : undefined });
              } catch (err) {
                failure ??= err;
              }
            }),
          ),
        );
        if (failure) throw failure;
        const manifest: S3Manifest = { kind: 's3', url: config.url, bucket, prefix, versions: config.versions, objects: entries };
        await sink.addBytes('manifest.json', JSON.stringify(manifest) + '\n');
      });
    } finally {
      s3.destroy();
    }
  },

  async restore(repo, spec, request, ctx) {
    const { bucket, prefix } = parseS3Url(request.to);
    const s3 = await client(request.s3 ?? {}, ctx);
    const reader = await openSourceSnapshot(repo, spec, 's3', ctx.workers).catch((err) => {
      s3.destroy();
      throw err;
    });
    try {
      const manifest = await readManifest<S3Manifest>(reader);
      const wrong: Check[] = [];
      let bytes = 0;
      let put = 0;
      for (const e of restoreOrder(manifest.objects)) {
        const key = prefix + e.key.slice(manifest.prefix.length);
        const where = `s3://${bucket}/${key}`;
        if (e.deleteMarker) {
          // Only meaningful on a versioned target, where it hides the versions put before it.
          if (manifest.versions) await s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err) => Promise.reject(s3Error(err, `delete marker for ${where}`)));
          continue;
        }
        if (e.size > MAX_PUT) throw new SourceError('SOURCE', `${where}: objects over 5 GiB are not restored to S3 yet; restore the snapshot with --target DIR and upload it with a multipart client`);
        const body = Readable.from(reader.stream(e.path!, ctx.signal));
        const answer = await s3
          .send(
            new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: e.size, ContentType: e.contentType, ContentEncoding: e.contentEncoding, ContentDisposition: e.contentDisposition, ContentLanguage: e.contentLanguage, CacheControl: e.cacheControl, Metadata: e.metadata }),
            { abortSignal: ctx.signal },
          )
          .catch((err) => Promise.reject(err instanceof SourceError || (err as { code?: string }).code === 'INTEGRITY' ? err : s3Error(err, `writing ${where}`)));
        const want = md5OfEtag(e.etag);
        if (want && md5OfEtag(answer.ETag) !== want) wrong.push({ name: key, ok: false, detail: `ETag ${answer.ETag} after the put, the backup recorded ${e.etag}` });
        const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
        if (e.latest && head.ContentLength !== e.size) wrong.push({ name: key, ok: false, detail: `${head.ContentLength} bytes after the put, the backup recorded ${e.size}` });
        bytes += e.size;
        put++;
      }
      const checks: Check[] = [{ name: 'objects', ok: wrong.length === 0, detail: `${put} object(s) put back, ETag and size checked` }, ...wrong];
      return { snapshotId: reader.id, kind: 's3', target: request.to, entries: put, bytes, checks };
    } catch (err) {
      throw err instanceof SourceError || (err as { code?: string }).code ? err : s3Error(err, `restore to ${request.to}`);
    } finally {
      s3.destroy();
      await reader.close();
    }
  },

  async verify(repo, spec, ctx) {
    const reader = await openSourceSnapshot(repo, spec, 's3', ctx.workers);
    try {
      const manifest = await readManifest<S3Manifest>(reader);
      const wrong: Check[] = [];
      let n = 0;
      for (const e of manifest.objects) {
        if (e.deleteMarker) continue;
        const md5 = createHash('md5');
        let size = 0;
        for await (const part of reader.stream(e.path!, ctx.signal)) {
          md5.update(part);
          size += part.length;
        }
        const want = md5OfEtag(e.etag);
        if (size !== e.size || (want && md5.digest('hex') !== want)) wrong.push({ name: e.key, ok: false, detail: `stored ${size} bytes${want ? ` with MD5 ≠ ETag ${e.etag}` : ''}, the listing said ${e.size}` });
        n++;
      }
      return report(reader.id, 's3', [{ name: 'objects', ok: wrong.length === 0, detail: `${n} object(s) read back: size and ETag (MD5) as listed` }, ...wrong]);
    } finally {
      await reader.close();
    }
  },
};
