/**
 * The sync status records in the mirror: `<mirror>/mirrorhook/sync-status`, one tag per shard, each an OCI image
 * manifest with `artifactType` application/vnd.mirrorhook.sync-status.v1+json, the empty config, and one layer
 * holding the record's JSON (the OCI 1.1 artifact guidance; distribution 2.8 stores it as any image). Everything
 * goes through the RegistryClient, the copy engine's own upload path (docs/adr/0215-sync-status-in-the-mirror.md).
 */
import { MirrorhookError, describeError, isMirrorhookError } from '../errors.js';
import type { MirrorRegistry } from '../mapping/index.js';
import type { RegistryClient, RepositoryRef } from '../registry/client.js';
import { sha256Digest } from '../registry/digest.js';
import { MediaType } from '../registry/manifest.js';
import type { Shard } from './policy.js';
import { type SyncRecord, type SyncStatusView, encodeRecord, mergeRun, parseRecord, shardTag, syncRecordMediaType, syncRecordRepository, syncStatusView } from './record.js';
import type { RepositorySyncReport } from './run.js';

/** The OCI empty descriptor's content (`{}`), the config of an artifact that has none. */
const emptyConfig = Buffer.from('{}');
const emptyMediaType = 'application/vnd.oci.empty.v1+json';
const recordTag = /^(all|shard-\d+-of-\d+)$/;

const where = (repo: RepositoryRef, tag?: string): string => `${repo.domain}/${repo.path}${tag === undefined ? '' : `:${tag}`}`;

/** Every shard's record; none when the repository does not exist yet (no run has recorded). */
export async function readSyncRecords(client: RegistryClient, repo: RepositoryRef): Promise<SyncRecord[]> {
  let tags: string[];
  try {
    tags = await client.listTags(repo);
  } catch (error) {
    if (isMirrorhookError(error) && error.code === 'MH_REGISTRY_NOT_FOUND') return [];
    throw error;
  }
  const records = await Promise.all(
    tags
      .filter((tag) => recordTag.test(tag))
      .sort()
      .map(async (tag) => {
        const manifest = await client.getManifest(repo, tag);
        const layer = manifest.parsed.kind === 'image' ? manifest.parsed.layers.find((descriptor) => descriptor.mediaType === syncRecordMediaType) : undefined;
        if (layer === undefined) throw new MirrorhookError('MH_SYNC_RECORD', `${where(repo, tag)} is not a sync status record (no ${syncRecordMediaType} layer); delete the tag`);
        return parseRecord(await client.getBlob(repo, layer.digest, layer.size), where(repo, tag));
      }),
  );
  return records;
}

/** Stores a record under its shard's tag, through the transfer engine (the empty config and the JSON blob, then the manifest). Returns its digest. */
export async function writeSyncRecord(client: RegistryClient, repo: RepositoryRef, record: SyncRecord): Promise<string> {
  const data = encodeRecord(record);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: syncRecordMediaType,
    config: { mediaType: emptyMediaType, digest: sha256Digest(emptyConfig), size: emptyConfig.length, data: emptyConfig.toString('base64') },
    layers: [{ mediaType: syncRecordMediaType, digest: sha256Digest(data), size: data.length }],
    annotations: { 'org.opencontainers.image.created': record.finishedAt, 'io.mirrorhook.sync.shard': record.shard },
  };
  // The transfer engine (and through it the registry transport, undici) loads only when a record is written: report
  // reads records through this module, and `mirrorhook report --help` must not load it (ADR 0160).
  const { pushMemoryImage } = await import('../copy/artifact.js');
  return pushMemoryImage(client, repo, record.shard, { manifest: { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: MediaType.ociManifest }, blobs: [emptyConfig, data] });
}

export interface RecordedRun {
  /** `host/prefix/mirrorhook/sync-status:tag`. */
  readonly reference: string;
  readonly digest: string;
  readonly record: SyncRecord;
}

/**
 * Reads the previous records (when this run had a failure), merges this run in, and writes the shard's record. Any failure is MH_SYNC_RECORD:
 * the caller reports it as a warning, the sync itself stands.
 */
export async function recordSyncRun(
  client: RegistryClient,
  mirror: MirrorRegistry,
  run: { readonly shard: Shard | undefined; readonly reports: readonly RepositorySyncReport[]; readonly startedAt: Date; readonly finishedAt: Date },
): Promise<RecordedRun> {
  const repo = syncRecordRepository(mirror);
  const tag = shardTag(run.shard);
  try {
    // A run without a failure sets every lastSuccess itself and reaches every repository it owns: the earlier
    // records have nothing to add, so a clean rerun pays only for the write.
    const clean = run.reports.every((report) => report.failed.length === 0);
    const previous = clean ? [] : await readSyncRecords(client, repo).catch((error: unknown) => {
      // An unreadable record must not stop this one from being written: start from nothing (it is overwritten if it
      // was this shard's; another shard's is reported by report and the status page).
      if (isMirrorhookError(error) && error.code === 'MH_SYNC_RECORD') return [];
      throw error;
    });
    const record = mergeRun(previous, tag, run.reports, run.startedAt, run.finishedAt);
    const digest = await writeSyncRecord(client, repo, record);
    return { reference: where(repo, tag), digest, record };
  } catch (error) {
    if (isMirrorhookError(error) && error.code === 'MH_SYNC_RECORD') throw error;
    throw new MirrorhookError('MH_SYNC_RECORD', `${where(repo, tag)}: ${describeError(error)}`, { cause: error });
  }
}

/** What report and the status page show: every shard's record, read now. A failure to read is in `error`. */
export async function readSyncStatus(client: RegistryClient, mirror: MirrorRegistry, now: () => Date = () => new Date()): Promise<SyncStatusView> {
  const repo = syncRecordRepository(mirror);
  try {
    return syncStatusView(await readSyncRecords(client, repo), where(repo), now());
  } catch (error) {
    const failure = isMirrorhookError(error) ? { code: error.code, message: error.message } : { code: 'MH_SYNC_RECORD', message: error instanceof Error ? error.message : String(error) };
    return syncStatusView([], where(repo), now(), failure);
  }
}

/** The view when the mirror is not asked (report --offline). */
export function uncheckedSyncStatus(mirror: MirrorRegistry): SyncStatusView {
  return syncStatusView([], where(syncRecordRepository(mirror)), new Date(0), null, false);
}
