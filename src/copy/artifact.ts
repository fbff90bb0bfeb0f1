/**
 * Small artifacts mirrorhook writes itself (the sync status record): an image held in memory, pushed through the
 * one transfer engine like any copied image, so the engine stays the only writer of blobs and manifests
 * (docs/adr/0180-one-transfer-engine.md). The manifest's blobs are the buffers given; nothing is read from disk.
 */
import { Readable } from 'node:stream';
import { MirrorhookError } from '../errors.js';
import type { RegistryClient, RepositoryRef } from '../registry/client.js';
import { sha256Digest } from '../registry/digest.js';
import { blobsOf, parseManifest } from '../registry/manifest.js';
import type { ImageSource } from './endpoint.js';
import { TransferEngine } from './executor.js';
import { registrySink } from './registry-endpoint.js';

export interface MemoryImage {
  /** The manifest's exact bytes and media type. */
  readonly manifest: { readonly bytes: Buffer; readonly mediaType: string };
  /** Every blob the manifest names, by content. */
  readonly blobs: readonly Buffer[];
}

/** An ImageSource over one manifest and its blobs in memory; its only reference is the manifest's digest. */
export function memorySource(name: string, image: MemoryImage): ImageSource {
  const digest = sha256Digest(image.manifest.bytes);
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType, name);
  const blobs = new Map(image.blobs.map((bytes) => [sha256Digest(bytes), bytes]));
  for (const descriptor of blobsOf(parsed)) {
    // A caller's bug, not a user's mistake: a plain Error.
    if (!blobs.has(descriptor.digest)) throw new Error(`${name}: blob ${descriptor.digest} of the manifest was not given`);
  }
  const manifest = { bytes: image.manifest.bytes, mediaType: image.manifest.mediaType, digest, parsed };
  return {
    name,
    registry: undefined,
    replayable: true,
    headManifest: (reference) => Promise.resolve(reference === digest ? { digest } : undefined),
    getManifest: (reference) => {
      if (reference !== digest) return Promise.reject(new MirrorhookError('MH_REGISTRY_NOT_FOUND', `${name}: no manifest ${reference}`));
      return Promise.resolve(manifest);
    },
    getReferrers: () => Promise.resolve([]),
    async readBlobs(wanted, visit) {
      await Promise.all(
        wanted.map((descriptor) =>
          visit(descriptor, (onBytes) => {
            const bytes = blobs.get(descriptor.digest) ?? Buffer.alloc(0);
            onBytes(bytes.length);
            return Promise.resolve(Readable.from([bytes]));
          }),
        ),
      );
    },
    carries: () => false,
  };
}

/** Pushes an in-memory image to `repository:tag` through the transfer engine; returns the manifest's digest. */
export async function pushMemoryImage(client: RegistryClient, repository: RepositoryRef, tag: string, image: MemoryImage): Promise<string> {
  const target = `${repository.domain}/${repository.path}:${tag}`;
  const source = memorySource(target, image);
  const digest = sha256Digest(image.manifest.bytes);
  const [outcome] = await new TransferEngine({ jobs: 2, signatures: false }).run([
    {
      image: target,
      target,
      source,
      sink: registrySink(client, repository),
      selector: digest,
      sourceDigest: digest,
      tag,
      pinnedDigest: undefined,
      byDigestFirst: false,
      // Records differ from run to run: asking whether the tag already names this digest would only add a request.
      skipUpToDate: false,
      notFound: () => new MirrorhookError('MH_COPY_FAILED', `${target}: the in-memory image has no manifest`),
    },
  ]);
  if (outcome === undefined || outcome.result.status === 'failed') {
    if (outcome?.cause instanceof Error) throw outcome.cause;
    throw new MirrorhookError('MH_COPY_FAILED', `${target}: not written${outcome?.result.error === undefined ? '' : `: ${outcome.result.error.message}`}`);
  }
  return digest;
}
