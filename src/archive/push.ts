import { MirrorhookError } from '../errors.js';
import type { Mapper } from '../mapping/index.js';
import { formatReference, manifestSelector, parseReference } from '../reference/index.js';
import { type ImageSink } from '../copy/endpoint.js';
import { type TransferJob, TransferEngine } from '../copy/executor.js';
import { registrySink } from '../copy/registry-endpoint.js';
import { type RegistryClient, type RepositoryRef } from '../registry/index.js';
import { readCatalog } from './catalog.js';
import { archiveImageSource, uploadConcurrency } from './image-source.js';
import { type ArchiveImage, type ArchivePlan, planArchive } from './layout.js';
import type { ArchiveSource } from './source.js';


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
 * Pushes every image of one archive through the transfer engine. Two passes over the archive: the first hashes
 * every file and checks the whole structure (so a corrupt archive is refused before anything is sent); the second
 * streams only the blobs the registry lacks (HEADed side by side), each verified again on the way. Manifests go
 * last, children before their index, so a failure at any point leaves no manifest pointing at missing blobs.
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

  const imageSource = archiveImageSource(source, plan);
  const sinks = new Map<string, ImageSink>();
  // Counts per repository: a blob two tags of one repository share is HEADed and sent once.
  const stats = new Map<string, { uploaded: number; mounted: number; present: number }>();
  const repositoryOf = new Map<string, string>();
  const jobs = targets.map((target): TransferJob => {
    const key = repositoryKey(target.repository);
    const sink = sinks.get(key) ?? registrySink(client, target.repository);
    sinks.set(key, sink);
    stats.set(key, stats.get(key) ?? { uploaded: 0, mounted: 0, present: 0 });
    const root = target.image.manifests.at(-1);
    const byDigest = target.reference.includes(':');
    const name = `${key}${byDigest ? '@' : ':'}${target.reference}`;
    repositoryOf.set(name, key);
    return {
      image: name,
      target: name,
      source: imageSource,
      sink,
      selector: root?.digest ?? target.reference,
      sourceDigest: root?.digest,
      tag: byDigest ? undefined : target.reference,
      pinnedDigest: byDigest ? target.reference : undefined,
      byDigestFirst: false,
      // Every blob is HEADed even when the tag is in place: the summary says what the registry holds.
      skipUpToDate: false,
      notFound: () => new MirrorhookError('MH_ARCHIVE_FORMAT', `${source.file}: image ${target.source} has no manifest`),
    };
  });
  const engine = new TransferEngine({
    jobs: uploadConcurrency,
    signatures: false,
    ...(events.signal === undefined ? {} : { signal: events.signal }),
    onEvent: (event) => {
      if (event.type !== 'blob') return;
      const counts = stats.get(repositoryOf.get(event.image) ?? '');
      if (counts === undefined) return;
      if (event.action === 'copied') counts.uploaded += 1;
      else if (event.action === 'mounted') counts.mounted += 1;
      else if (event.action === 'exists') counts.present += 1;
    },
  });
  const outcomes = await engine.run(jobs);

  const pushed: PushedImage[] = [];
  outcomes.forEach(({ result }, index) => {
    const target = targets[index];
    const root = target?.image.manifests.at(-1);
    if (result.status === 'failed' || target === undefined || root === undefined) return;
    const counts = stats.get(repositoryKey(target.repository)) ?? { uploaded: 0, mounted: 0, present: 0 };
    const image: PushedImage = {
      archive: source.file,
      source: target.source,
      target: result.target,
      digest: root.digest,
      mediaType: root.mediaType,
      blobsUploaded: counts.uploaded,
      blobsMounted: counts.mounted,
      blobsPresent: counts.present,
    };
    pushed.push(image);
    events.onPushed?.(image);
  });
  // Images pushed are listed; the first failure is what the push reports.
  const failed = outcomes.find(({ result }) => result.status === 'failed');
  if (failed !== undefined) throw failed.cause;
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

function repositoryKey(repository: RepositoryRef): string {
  return `${repository.domain}/${repository.path}`;
}
