/**
 * OCI artifacts as image volumes and `oras push` carry them: a manifest with `artifactType`, the empty config
 * (`application/vnd.oci.empty.v1+json`, the two bytes `{}`), layers of non-image media types with titles, and an
 * index whose children are such artifacts (no platform). Pushed straight into a registry with the RegistryClient.
 *
 *   const artifact = await pushTestArtifact(client, { domain: registry.host, path: 'models/tiny' }, 'v1');
 *   artifact.digest; artifact.children; artifact.blobs
 */
import { randomBytes } from 'node:crypto';
import { MediaType, type RegistryClient, type RepositoryRef } from '../../src/registry/index.js';
import { pushBlob, pushManifest } from './images.js';

export const emptyConfigMediaType = 'application/vnd.oci.empty.v1+json';
export const modelArtifactType = 'application/vnd.example.model.v1';

export interface TestArtifact {
  /** Digest of the index (`index: true`) or of the single artifact manifest. */
  readonly digest: string;
  readonly children: readonly string[];
  readonly blobs: readonly { readonly digest: string; readonly size: number; readonly mediaType: string }[];
}

export async function pushTestArtifact(client: RegistryClient, repo: RepositoryRef, tag: string, options: { readonly index?: boolean; readonly layerSize?: number } = {}): Promise<TestArtifact> {
  const empty = await pushBlob(client, repo, Buffer.from('{}'));
  const emptyDescriptor = { mediaType: emptyConfigMediaType, ...empty, data: 'e30=' };
  const blobs: TestArtifact['blobs'][number][] = [{ ...empty, mediaType: emptyConfigMediaType }];
  const manifests: { digest: string; size: number }[] = [];
  const variants = options.index === true ? ['weights-fp16', 'weights-int8'] : ['weights'];
  for (const variant of variants) {
    const weights = { mediaType: 'application/vnd.example.model.weights.v1', ...(await pushBlob(client, repo, randomBytes(options.layerSize ?? 96 * 1024))) };
    const bundle = { mediaType: 'application/vnd.example.config.bundle.v1.tar+gzip', ...(await pushBlob(client, repo, randomBytes(2048))) };
    blobs.push(weights, bundle);
    const manifest = await pushManifest(
      client,
      repo,
      options.index === true ? undefined : tag,
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: modelArtifactType,
        config: emptyDescriptor,
        layers: [
          { ...weights, annotations: { 'org.opencontainers.image.title': `${variant}.bin` } },
          { ...bundle, annotations: { 'org.opencontainers.image.title': 'config.tar.gz' } },
        ],
        annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z', 'example.variant': variant },
      },
      MediaType.ociManifest,
    );
    manifests.push(manifest);
  }
  if (options.index !== true) return { digest: manifests[0]!.digest, children: [], blobs };
  const index = await pushManifest(
    client,
    repo,
    tag,
    {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      artifactType: modelArtifactType,
      manifests: manifests.map((manifest, position) => ({
        mediaType: MediaType.ociManifest,
        artifactType: modelArtifactType,
        ...manifest,
        bytes: undefined,
        annotations: { 'example.variant': variants[position] },
      })),
    },
    MediaType.ociIndex,
  );
  return { digest: index.digest, children: manifests.map((manifest) => manifest.digest), blobs };
}
