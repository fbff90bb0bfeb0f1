import { MirrorhookError } from '../errors.js';
import { type TransferJob, TransferEngine, registryJob } from '../copy/executor.js';
import { type ImageReference, formatReference } from '../reference/index.js';
import { type RegistryClient } from '../registry/index.js';
import { openArchiveWriter } from './writer.js';

export { compressionFor } from './writer.js';

export interface PulledImage {
  readonly reference: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly blobs: number;
  readonly bytes: number;
}

/**
 * Writes the images, every platform, into one OCI image layout tar (`oci-layout`, `index.json` naming each image by
 * its full reference, `blobs/sha256/…`), digests unchanged, for carrying into an air gap and `push`ing there. A
 * transfer with the registry as source and the archive as sink: every image's manifests are read first (an image
 * that is not there fails the pull before a blob is downloaded), then blobs stream from the registry straight into
 * the tar, one entry at a time. The file appears only when complete; on any failure it is not written at all.
 */
export async function pullToArchive(
  references: readonly ImageReference[],
  client: RegistryClient,
  file: string,
  onImage: (image: PulledImage) => void = () => undefined,
): Promise<PulledImage[]> {
  const writer = openArchiveWriter(file);
  const blobCounts = new Map<string, number>();
  let failed = false;
  const results: PulledImage[] = [];
  const engine = new TransferEngine({
    signatures: false,
    onEvent: (event) => {
      if (event.type === 'plan') blobCounts.set(event.image, event.blobs);
      else if (event.type === 'blob' && event.action === 'skipped-non-distributable') blobCounts.set(event.image, (blobCounts.get(event.image) ?? 1) - 1);
      else if (event.type === 'failed') failed = true;
      else if (event.type === 'done' && !failed) {
        // Manifests are written image by image, in order: each image is reported as soon as it is complete.
        const root = writer.manifest(event.digest);
        const image = { reference: event.image, digest: event.digest, mediaType: root?.mediaType ?? '', blobs: blobCounts.get(event.image) ?? 0, bytes: event.bytes };
        results.push(image);
        onImage(image);
      }
    },
  });
  const jobs = references.map((reference): TransferJob => ({ ...registryJob(client, { source: reference, target: reference }), sink: writer }));
  try {
    const outcomes = await engine.run(jobs);
    const failure = outcomes.find(({ result }) => result.status === 'failed');
    if (failure !== undefined) throw failure.cause;
    await writer.finish(
      references.map((reference, index) => {
        const digest = outcomes[index]?.result.digest ?? '';
        const root = writer.manifest(digest);
        return { name: formatReference({ ...reference, digest: undefined }), digest, mediaType: root?.mediaType ?? '', size: root?.size ?? 0 };
      }),
    );
  } catch (error) {
    await writer.abort();
    if (error instanceof MirrorhookError) throw error;
    throw new MirrorhookError('MH_ARCHIVE_WRITE', `${file}: ${(error as Error).message}`, { cause: error });
  }
  return results;
}
