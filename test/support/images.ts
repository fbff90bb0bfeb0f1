/**
 * Builds test images straight into a registry with the RegistryClient: multi-platform indexes with random layers
 * (a base layer shared by every platform), a buildx-style attestation manifest (platform unknown/unknown) and a
 * cosign-style signature tag (`sha256-<hex>.sig`). Nothing here is a valid root filesystem: registries and
 * copies only care about bytes and digests.
 *
 *   const image = await pushTestImage(client, { domain: registry.host, path: 'team/app' }, 'v1', { signature: true });
 *   image.digest; image.blobs; image.signatureTag
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MediaType, type Platform, type RegistryClient, type RepositoryRef, sha256Digest } from '../../src/registry/index.js';

export interface TestImageOptions {
  readonly platforms?: readonly Platform[];
  /** Bytes of each random layer (default 64 KiB). */
  readonly layerSize?: number;
  /** Random layers per platform besides the shared base layer (default 1). */
  readonly layersPerPlatform?: number;
  /** A base layer to share with other images (default: a fresh one). */
  readonly baseLayer?: Buffer;
  readonly attestation?: boolean;
  readonly signature?: boolean;
  /** Docker v2 media types instead of OCI (default OCI). */
  readonly docker?: boolean;
  /** The config's `created` time (RFC 3339), as builders write it; absent by default. */
  readonly created?: string;
  /** Derive every "random" byte from this seed, so the image (and its digests) is the same on every run. */
  readonly seed?: string;
}

export interface TestImage {
  readonly reference: string;
  /** Digest of the top manifest (the index, or the single manifest). */
  readonly digest: string;
  readonly manifestDigests: readonly string[];
  readonly blobs: readonly { readonly digest: string; readonly size: number }[];
  readonly signatureTag: string | undefined;
  readonly baseLayer: Buffer;
}

export const defaultPlatforms: readonly Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];

export async function pushBlob(client: RegistryClient, repo: RepositoryRef, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256Digest(bytes);
  if ((await client.headBlob(repo, digest)) === undefined) {
    await client.uploadBlob(repo, () => Readable.from([bytes]), digest, bytes.length);
  }
  return { digest, size: bytes.length };
}

/** Pushes a JSON manifest (serialised once, so its digest is that of these exact bytes). */
export async function pushManifest(client: RegistryClient, repo: RepositoryRef, reference: string | undefined, body: unknown, mediaType: string): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify(body, null, 3));
  const digest = sha256Digest(bytes);
  await client.putManifest(repo, reference ?? digest, bytes, mediaType);
  return { digest, size: bytes.length, bytes };
}

/** `size` bytes that look random: from the seed and label when a seed is given (the same bytes every run), else random. */
export function testBytes(seed: string | undefined, label: string, size: number): Buffer {
  if (seed === undefined) return randomBytes(size);
  const key = createHash('sha256').update(`${seed}\0${label}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export async function pushTestImage(client: RegistryClient, repo: RepositoryRef, tag: string, options: TestImageOptions = {}): Promise<TestImage> {
  const platforms = options.platforms ?? defaultPlatforms;
  const layerSize = options.layerSize ?? 64 * 1024;
  const bytes = (label: string, size: number): Buffer => testBytes(options.seed, label, size);
  const baseLayer = options.baseLayer ?? bytes('base', layerSize);
  const layerType = options.docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip';
  const configType = options.docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json';
  const manifestType = options.docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const indexType = options.docker ? MediaType.dockerList : MediaType.ociIndex;
  const blobs = new Map<string, { digest: string; size: number }>();
  const manifestDigests: string[] = [];
  const record = (blob: { digest: string; size: number }) => {
    blobs.set(blob.digest, blob);
    return blob;
  };

  const base = record(await pushBlob(client, repo, baseLayer));
  const children: object[] = [];
  for (const platform of platforms) {
    const layers = [base];
    for (let index = 0; index < (options.layersPerPlatform ?? 1); index++) {
      layers.push(record(await pushBlob(client, repo, bytes(`layer ${formatPlatformKey(platform)} ${index}`, layerSize))));
    }
    const config = record(
      await pushBlob(
        client,
        repo,
        Buffer.from(JSON.stringify({ created: options.created, architecture: platform.architecture, os: platform.os, variant: platform.variant, rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) } })),
      ),
    );
    const manifest = await pushManifest(
      client,
      repo,
      undefined,
      {
        schemaVersion: 2,
        mediaType: manifestType,
        config: { mediaType: configType, digest: config.digest, size: config.size },
        layers: layers.map((layer) => ({ mediaType: layerType, digest: layer.digest, size: layer.size })),
      },
      manifestType,
    );
    manifestDigests.push(manifest.digest);
    children.push({ mediaType: manifestType, digest: manifest.digest, size: manifest.size, platform });
    if (options.attestation) {
      const statement = record(await pushBlob(client, repo, Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document', subject: [{ digest: { sha256: manifest.digest.slice(7) } }], predicate: { nonce: bytes(`nonce ${manifest.digest}`, 8).toString('hex') } }))));
      const emptyConfig = record(await pushBlob(client, repo, Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [statement.digest] } }))));
      const attestation = await pushManifest(
        client,
        repo,
        undefined,
        {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: emptyConfig.digest, size: emptyConfig.size },
          layers: [{ mediaType: 'application/vnd.in-toto+json', digest: statement.digest, size: statement.size, annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } }],
        },
        MediaType.ociManifest,
      );
      manifestDigests.push(attestation.digest);
      children.push({
        mediaType: MediaType.ociManifest,
        digest: attestation.digest,
        size: attestation.size,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': manifest.digest },
      });
    }
  }
  const top = await pushManifest(client, repo, tag, { schemaVersion: 2, mediaType: indexType, manifests: children }, indexType);
  manifestDigests.push(top.digest);

  let signatureTag: string | undefined;
  if (options.signature) {
    signatureTag = `${top.digest.replace(':', '-')}.sig`;
    const payload = record(
      await pushBlob(client, repo, Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': `${repo.domain}/${repo.path}` }, image: { 'docker-manifest-digest': top.digest }, type: 'cosign container image signature' }, optional: null }))),
    );
    const emptyConfig = record(await pushBlob(client, repo, Buffer.from('{}')));
    await pushManifest(
      client,
      repo,
      signatureTag,
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: emptyConfig.digest, size: emptyConfig.size },
        layers: [
          {
            mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
            digest: payload.digest,
            size: payload.size,
            annotations: { 'dev.cosignproject.cosign/signature': bytes(`signature ${top.digest}`, 64).toString('base64') },
          },
        ],
      },
      MediaType.ociManifest,
    );
  }
  return { reference: `${repo.domain}/${repo.path}:${tag}`, digest: top.digest, manifestDigests, blobs: [...blobs.values()], signatureTag, baseLayer };
}

/**
 * Uploads a large generated blob without holding it in memory: `size` bytes made of one random MiB repeated,
 * hashed in a first pass. Returns its descriptor.
 */
export async function pushLargeBlob(client: RegistryClient, repo: RepositoryRef, size: number): Promise<{ digest: string; size: number }> {
  const block = randomBytes(1024 * 1024);
  const generate = (): Readable =>
    Readable.from(
      (function* chunks() {
        for (let offset = 0; offset < size; offset += block.length) yield block.subarray(0, Math.min(block.length, size - offset));
      })(),
    );
  const hash = createHash('sha256');
  for await (const chunk of generate()) hash.update(chunk as Buffer);
  const digest = `sha256:${hash.digest('hex')}`;
  await client.uploadBlob(repo, generate, digest, size);
  return { digest, size };
}

function formatPlatformKey(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter((part) => part !== undefined).join('/');
}
