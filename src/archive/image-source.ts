/**
 * An archive (docker save, OCI layout; a folder or a tar) as the source of a transfer: manifests from its checked
 * plan, blobs streamed from a read of the archive in its own order, each verified against its digest on the way.
 */
import { MirrorhookError } from '../errors.js';
import { type ImageSource } from '../copy/endpoint.js';
import { verifyingStream } from '../registry/digest.js';
import { type Descriptor, parseManifest } from '../registry/manifest.js';
import { type ArchiveBlob, type ArchiveManifest, type ArchivePlan } from './layout.js';
import { type ArchiveSource } from './source.js';

/** Blobs uploaded at once when the archive is a folder (a tar is one stream and goes one blob at a time). */
export const uploadConcurrency = 4;

export function archiveImageSource(archive: ArchiveSource, plan: ArchivePlan): ImageSource {
  const manifests = new Map<string, ArchiveManifest>();
  const blobs = new Map<string, ArchiveBlob>();
  for (const image of plan.images) {
    for (const manifest of image.manifests) manifests.set(manifest.digest, manifest);
    for (const blob of image.blobs) blobs.set(blob.digest, blob);
  }
  return {
    name: archive.file,
    registry: undefined,
    // Each blob is a stretch of one read of the archive: it cannot be opened a second time.
    replayable: false,
    headManifest: (reference) => Promise.resolve(manifests.has(reference) ? { digest: reference } : undefined),
    getManifest(reference) {
      const manifest = manifests.get(reference);
      if (manifest === undefined) return Promise.reject(new MirrorhookError('MH_ARCHIVE_CORRUPT', `${archive.file} holds no manifest ${reference}`));
      const parsed = parseManifest(manifest.bytes, manifest.mediaType, `${archive.file}: manifest ${reference}`);
      return Promise.resolve({ ...manifest, parsed });
    },
    getReferrers: () => Promise.resolve(undefined),
    async readBlobs(wanted, visit) {
      const byPath = new Map<string, Descriptor>();
      for (const blob of wanted) {
        const entry = blobs.get(blob.digest);
        if (entry === undefined) throw new MirrorhookError('MH_ARCHIVE_CORRUPT', `${archive.file} holds no blob ${blob.digest}`);
        byPath.set(entry.path, blob);
      }
      const done = new Set<string>();
      await archive.forEach(
        async ({ path, stream }) => {
          const blob = byPath.get(path);
          let opened = false;
          if (blob !== undefined && !done.has(blob.digest)) {
            done.add(blob.digest);
            await visit(blob, (onBytes) => {
              // One read holds the bytes once: a second reader would wait forever.
              if (opened) return Promise.reject(new MirrorhookError('MH_REGISTRY_UPLOAD', `${archive.file}: ${path} can be sent once per read`));
              opened = true;
              const verified = stream.pipe(verifyingStream(blob.digest, blob.size, `${archive.file}: ${path}`, onBytes));
              stream.once('error', (error) => verified.destroy(error));
              return Promise.resolve(verified);
            });
          }
          if (!opened) {
            for await (const _ of stream) {
              // read past: already sent, or not wanted
            }
          }
        },
        (path) => byPath.has(path),
        uploadConcurrency,
      );
      const unsent = wanted.filter((blob) => !done.has(blob.digest)).map((blob) => blob.digest);
      if (unsent.length > 0) {
        throw new MirrorhookError('MH_ARCHIVE_CORRUPT', `${archive.file} changed while it was pushed: ${unsent.join(', ')} not found on the second read`);
      }
    },
    carries: (blob) => blobs.has(blob.digest),
  };
}
