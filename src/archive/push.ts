import { MirrorhookError } from '../errors.js';
import type { Mapper } from '../mapping/index.js';
import { formatReference, manifestSelector, parseReference } from '../reference/index.js';
import { type RegistryClient, type RepositoryRef, verifyingStream } from '../registry/index.js';
import { readCatalog } from './catalog.js';
import { type ArchiveImage, type ArchivePlan, planArchive } from './layout.js';
import type { ArchiveSource } from './source.js';

/** Blobs uploaded at once when the archive is a folder (a tar is one stream and goes one blob at a time). */
export const uploadConcurrency = 4;

export interface PushTarget {
  /** The archive's name for the image. */
  readonly source: string;
  readonly repository: RepositoryRef;
  /** Tag, or the digest when the name has no tag. */
  readonly reference: string;
  readonly image: ArchiveImage;
}

export interface PushedImage {
  readonly archive: string;
  readonly source: string;
  /** `host/path:tag`. */
  readonly target: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly blobsUploaded: number;
  readonly blobsMounted: number;
  readonly blobsPresent: number;
}

export interface PushEvents {
  /** Called once the archive has been read and checked, before any byte is sent. */
  readonly onPlan?: (plan: ArchivePlan, targets: readonly PushTarget[]) => void;
  readonly onPushed?: (image: PushedImage) => void;
  /** Stops the local reading pass too (the registry client stops on its own signal). */
  readonly signal?: AbortSignal;
  /**
   * The name to push the archive's one image under (`push --name`), in place of the names it carries: for layouts
   * that name none, like `crane pull --format oci`. An archive of several images is refused (MH_ARCHIVE_NAME).
   */
  readonly name?: string;
}

/**
 * Pushes every image of one archive. Two passes over the archive: the first hashes every file and checks the
 * whole structure (so a corrupt archive is refused before anything is sent); the second streams only the blobs
 * the registry lacks, each verified again on the way. Manifests go last, children before their index, so a
 * failure at any point leaves no manifest pointing at missing blobs.
 */
export async function pushArchive(
  source: ArchiveSource,
  client: RegistryClient,
  mapper: Mapper,
  events: PushEvents = {},
): Promise<PushedImage[]> {
  const plan = planArchive(await readCatalog(source, events.signal), source.file);
  if (plan.images.length === 0) throw new MirrorhookError('MH_ARCHIVE_FORMAT', `${source.file} holds no image`);
  const targets = targetsOf(events.name === undefined ? plan : namedPlan(plan, events.name, source.file), mapper, source.file);
  events.onPlan?.(plan, targets);

  const repositories = uniqueRepositories(targets);
  for (const repository of repositories) client.willPush(repository);

  // Which blobs each repository lacks; the first repository that needs a blob gets the upload, the others a mount.
  const stats = new Map<string, { uploaded: number; mounted: number; present: number }>();
  const statsOf = (repository: RepositoryRef) => {
    const key = repositoryKey(repository);
    const current = stats.get(key) ?? { uploaded: 0, mounted: 0, present: 0 };
    stats.set(key, current);
    return current;
  };
  const missing = new Map<string, { size: number; path: string; repositories: RepositoryRef[] }>();
  const checked = new Set<string>();
  for (const target of targets) {
    for (const blob of target.image.blobs) {
      const key = `${repositoryKey(target.repository)}@${blob.digest}`;
      if (checked.has(key)) continue;
      checked.add(key);
      if ((await client.headBlob(target.repository, blob.digest)) !== undefined) {
        statsOf(target.repository).present += 1;
        continue;
      }
      const entry = missing.get(blob.digest) ?? { size: blob.size, path: blob.path, repositories: [] };
      entry.repositories.push(target.repository);
      missing.set(blob.digest, entry);
    }
  }

  if (missing.size > 0) {
    const byPath = new Map([...missing.entries()].map(([digest, entry]) => [entry.path, digest]));
    const done = new Set<string>();
    await source.forEach(
      async ({ path, stream }) => {
        const digest = byPath.get(path);
        const entry = digest === undefined ? undefined : missing.get(digest);
        if (digest === undefined || entry === undefined || done.has(digest)) {
          for await (const _ of stream) {
            // already sent
          }
          return;
        }
        const [first, ...others] = entry.repositories;
        if (first === undefined) return;
        const verified = stream.pipe(verifyingStream(digest, entry.size, `${source.file}: ${path}`));
        stream.once('error', (error) => verified.destroy(error));
        await client.uploadBlob(first, verified, digest, entry.size);
        statsOf(first).uploaded += 1;
        for (const repository of others) {
          const mount = await client.mountBlob(repository, digest, first.path);
          if (mount.mounted) statsOf(repository).mounted += 1;
          else throw new MirrorhookError('MH_REGISTRY_UPLOAD', `${repository.domain} did not mount ${digest} from ${first.path} into ${repository.path}`);
        }
        done.add(digest);
      },
      (path) => byPath.has(path),
      uploadConcurrency,
    );
    const unsent = [...missing.keys()].filter((digest) => !done.has(digest));
    if (unsent.length > 0) {
      throw new MirrorhookError('MH_ARCHIVE_CORRUPT', `${source.file} changed while it was pushed: ${unsent.join(', ')} not found on the second read`);
    }
  }

  const pushed: PushedImage[] = [];
  const sentManifests = new Set<string>();
  for (const target of targets) {
    const root = target.image.manifests.at(-1);
    if (root === undefined) continue;
    for (const manifest of target.image.manifests.slice(0, -1)) {
      const key = `${repositoryKey(target.repository)}@${manifest.digest}`;
      if (sentManifests.has(key)) continue;
      await client.putManifest(target.repository, manifest.digest, manifest.bytes, manifest.mediaType);
      sentManifests.add(key);
    }
    const digest = await client.putManifest(target.repository, target.reference, root.bytes, root.mediaType);
    const counts = statsOf(target.repository);
    const result: PushedImage = {
      archive: source.file,
      source: target.source,
      target: `${target.repository.domain}/${target.repository.path}${target.reference.includes(':') ? '@' : ':'}${target.reference}`,
      digest,
      mediaType: root.mediaType,
      blobsUploaded: counts.uploaded,
      blobsMounted: counts.mounted,
      blobsPresent: counts.present,
    };
    pushed.push(result);
    events.onPushed?.(result);
  }
  return pushed;
}

/** Where each named image goes: the mapper decides, exactly as for `copy` and the webhook. */
export function targetsOf(plan: ArchivePlan, mapper: Mapper, origin: string): PushTarget[] {
  const targets: PushTarget[] = [];
  const problems: string[] = [];
  plan.images.forEach((image, index) => {
    if (image.names.length === 0) {
      problems.push(`image ${index + 1} (${image.manifests.at(-1)?.digest ?? 'no manifest'}) has no name with a repository; name it with --name REF`);
      return;
    }
    for (const name of image.names) {
      const decision = mapper.decide(name);
      if (decision.action === 'invalid') {
        problems.push(`image ${index + 1}: "${name}" ${decision.reason}`);
        continue;
      }
      const reference = decision.action === 'rewrite' ? decision.target : decision.source;
      if (decision.action === 'skip' && decision.skipReason !== 'already-mirrored') {
        problems.push(`image ${index + 1}: "${name}" cannot be placed in ${mapper.mirror.domain}: ${decision.reason}`);
        continue;
      }
      const rootDigest = image.manifests.at(-1)?.digest;
      const selector = reference.tag ?? rootDigest ?? manifestSelector(reference);
      if (reference.digest !== undefined && rootDigest !== undefined && reference.digest !== rootDigest) {
        problems.push(`image ${index + 1}: "${name}" names digest ${reference.digest} but the archive's manifest is ${rootDigest}`);
        continue;
      }
      targets.push({ source: formatReference(parseReference(name)), repository: { domain: reference.domain, path: reference.path }, reference: selector, image });
    }
  });
  if (problems.length > 0) {
    throw new MirrorhookError(
      plan.images.some((image) => image.names.length === 0) ? 'MH_ARCHIVE_UNNAMED' : 'MH_ARCHIVE_FORMAT',
      `${origin}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
  return targets;
}

/** The plan with its one image renamed; several images cannot share one name, so that is refused with the count. */
export function namedPlan(plan: ArchivePlan, name: string, origin: string): ArchivePlan {
  const [only, ...others] = plan.images;
  if (only === undefined || others.length > 0) {
    throw new MirrorhookError(
      'MH_ARCHIVE_NAME',
      `${origin} holds ${plan.images.length} images and --name names one: push it without --name (images named in the archive go where their names say), or write one archive per image`,
    );
  }
  return { ...plan, images: [{ ...only, names: [name] }] };
}

function uniqueRepositories(targets: readonly PushTarget[]): RepositoryRef[] {
  const byKey = new Map(targets.map((target) => [repositoryKey(target.repository), target.repository]));
  return [...byKey.values()];
}

function repositoryKey(repository: RepositoryRef): string {
  return `${repository.domain}/${repository.path}`;
}
