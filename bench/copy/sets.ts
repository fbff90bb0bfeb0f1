/**
 * The image sets of bench/copy, seeded into a loopback source registry:
 *   small   20 images × 2 platforms, 1 to 4 MiB each (a shared 256 KiB base layer, one app layer per platform)
 *   medium  6 images × 2 platforms sharing a 32 MiB base layer, two 12 MiB layers per platform: 320 MiB
 *   large   one single-platform image with one 1 GiB layer (generated and streamed, never held in memory)
 * The smoke run uses the small shape at 4 images of 256 KiB to 1 MiB.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MediaType, RegistryClient, sha256Digest } from '../../src/registry/index.js';
import { pushManifest } from '../../test/support/images.js';
import { type TestRegistry, startRegistry } from '../../test/support/registry.js';

export const mb = 1024 * 1024;
export type SetName = 'small' | 'medium' | 'large';
export const setNames: readonly SetName[] = ['small', 'medium', 'large'];

export interface Blob {
  readonly digest: string;
  readonly size: number;
  open(): Readable;
}

export interface SeededSet {
  readonly name: SetName;
  /** `repository:tag` on the source, e.g. `bench/small3:v1`. */
  readonly images: readonly string[];
  readonly blobs: readonly Blob[];
  readonly totalBytes: number;
  readonly description: string;
}

const platforms = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];

/** Pushes set `name` into `source`. */
export async function seedSet(name: SetName, source: TestRegistry, smoke: boolean): Promise<SeededSet> {
  const client = new RegistryClient();
  const blobs = new Map<string, Blob>();
  const push = async (path: string, blob: Blob): Promise<{ digest: string; size: number }> => {
    blobs.set(blob.digest, blob);
    if ((await client.headBlob({ domain: source.host, path }, blob.digest)) === undefined) {
      await client.uploadBlob({ domain: source.host, path }, () => blob.open(), blob.digest, blob.size);
    }
    return { digest: blob.digest, size: blob.size };
  };
  const image = async (path: string, layersOf: (platform: (typeof platforms)[number]) => Blob[], multi: boolean): Promise<string> => {
    const repo = { domain: source.host, path };
    const children = [];
    for (const platform of multi ? platforms : platforms.slice(0, 1)) {
      const layers = [];
      for (const layer of layersOf(platform)) layers.push(await push(path, layer));
      const config = await push(path, memoryBlob(Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) } }))));
      const body = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer })),
      };
      if (!multi) {
        await pushManifest(client, repo, 'v1', body, MediaType.ociManifest);
        return `${path}:v1`;
      }
      const manifest = await pushManifest(client, repo, undefined, body, MediaType.ociManifest);
      children.push({ mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size, platform });
    }
    await pushManifest(client, repo, 'v1', { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children }, MediaType.ociIndex);
    return `${path}:v1`;
  };

  const images: string[] = [];
  let description: string;
  try {
    if (name === 'small') {
      const count = smoke ? 4 : 20;
      const [lowest, highest] = smoke ? [0.25 * mb, 1 * mb] : [1 * mb, 4 * mb];
      const base = memoryBlob(randomBytes(smoke ? 64 * 1024 : 256 * 1024));
      for (let index = 0; index < count; index++) {
        const imageBytes = lowest + Math.round(((highest - lowest) * index) / (count - 1));
        const appBytes = Math.max(1024, Math.round(imageBytes / 2) - base.size);
        images.push(await image(`bench/small${index}`, () => [base, memoryBlob(randomBytes(appBytes))], true));
      }
      description = `${count} images × 2 platforms, ${(lowest / mb).toFixed(2)}–${(highest / mb).toFixed(0)} MiB each`;
    } else if (name === 'medium') {
      const base = memoryBlob(randomBytes(smoke ? 2 * mb : 32 * mb));
      const layerBytes = smoke ? mb : 12 * mb;
      for (let index = 0; index < (smoke ? 2 : 6); index++) {
        images.push(await image(`bench/app${index}`, () => [base, memoryBlob(randomBytes(layerBytes)), memoryBlob(randomBytes(layerBytes))], true));
      }
      description = `${images.length} images × 2 platforms sharing a ${(base.size / mb).toFixed(0)} MiB base layer`;
    } else {
      const layer = generatedBlob(smoke ? 64 * mb : 1024 * mb);
      images.push(await image('bench/big', () => [layer], false));
      description = `1 image with one ${(layer.size / mb).toFixed(0)} MiB layer`;
    }
  } finally {
    await client.close();
  }
  const all = [...blobs.values()];
  return { name, images, blobs: all, totalBytes: all.reduce((sum, blob) => sum + blob.size, 0), description };
}

function memoryBlob(bytes: Buffer): Blob {
  return { digest: sha256Digest(bytes), size: bytes.length, open: () => Readable.from([bytes]) };
}

/** `size` bytes made of one random MiB repeated, hashed in a first pass; streamed again on every open(). */
function generatedBlob(size: number): Blob {
  const block = randomBytes(mb);
  const open = (): Readable =>
    Readable.from(
      (function* chunks() {
        for (let offset = 0; offset < size; offset += block.length) yield block.subarray(0, Math.min(block.length, size - offset));
      })(),
    );
  const hash = createHash('sha256');
  for (let offset = 0; offset < size; offset += block.length) hash.update(block.subarray(0, Math.min(block.length, size - offset)));
  return { digest: `sha256:${hash.digest('hex')}`, size, open };
}

/** The loopback limit: the set's unique blobs pushed straight from memory into a fresh target, `parallel` at a time. */
export async function rawIngest(blobs: readonly Blob[], parallel: number): Promise<number> {
  const target = await startRegistry();
  const client = new RegistryClient();
  try {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < blobs.length) {
          const blob = blobs[next++]!;
          await client.uploadBlob({ domain: target.host, path: 'raw/ingest' }, () => blob.open(), blob.digest, blob.size);
        }
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await client.close();
    await target.stop();
  }
}
