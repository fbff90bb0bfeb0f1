/**
 * An OCI image layout tar being written, as the sink of a transfer: blobs and manifests become `blobs/<alg>/<hex>`
 * entries one at a time (a tar is one stream), `index.json` is written last, and the file appears only when
 * complete: it is written beside its name, then renamed; on failure the partial file is removed.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable, type Writable, pipeline } from 'node:stream';
import { pipeline as pipelinePromise } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { type ImageSink } from '../copy/endpoint.js';
import { Limiter } from '../copy/limiter.js';
import { type Descriptor } from '../registry/manifest.js';
import { xzCompress } from './xz.js';

/** How the archive is compressed, from its name: `.tar.gz`/`.tgz` gzip, `.tar.xz` xz, anything else plain tar. */
export function compressionFor(file: string): 'none' | 'gzip' | 'xz' {
  if (/\.(tar\.gz|tgz)$/i.test(file)) return 'gzip';
  if (/\.tar\.xz$/i.test(file)) return 'xz';
  return 'none';
}

export interface ArchiveWriter extends ImageSink {
  /** A manifest written so far, as index.json describes it. */
  manifest(digest: string): { readonly mediaType: string; readonly size: number } | undefined;
  /** Writes index.json naming these images, closes the tar and gives it its name. */
  finish(images: readonly (Descriptor & { readonly name: string })[]): Promise<void>;
  /** Stops writing and removes the partial file. */
  abort(): Promise<void>;
}

export function openArchiveWriter(file: string): ArchiveWriter {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const pack = tarPack();
  const output = createWriteStream(temporary);
  const compression = compressionFor(file);
  const tar = pack as unknown as Readable;
  let finished: Promise<void>;
  if (compression === 'gzip') finished = pipelinePromise(tar, createGzip(), output);
  else if (compression === 'xz') finished = xzCompress(tar, output);
  else finished = pipelinePromise(tar, output);
  finished.catch(() => undefined);
  // One entry at a time: a tar is a single stream.
  const entries = new Limiter(1);
  const written = new Set<string>();
  const manifests = new Map<string, { mediaType: string; size: number }>();
  const layout = entries.run(() => addEntry(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))));
  layout.catch(() => undefined);

  return {
    name: file,
    registry: undefined,
    // A half-written entry cannot be taken back.
    retryable: false,
    prepare: () => undefined,
    headManifest: () => Promise.resolve(undefined),
    hasBlob: (blob) => Promise.resolve(written.has(blob.digest)),
    mountBlob: () => Promise.resolve(undefined),
    writeBlob: (blob, body) =>
      entries.run(async () => {
        await layout;
        // Opened only when its turn comes: a download does not wait idle while another entry is written.
        const stream = typeof body === 'function' ? await body() : body;
        await addStreamEntry(pack, blobPath(blob.digest), blob.size, stream);
        written.add(blob.digest);
      }),
    writeManifest: (_reference, manifest) =>
      entries.run(async () => {
        await layout;
        manifests.set(manifest.digest, { mediaType: manifest.mediaType, size: manifest.bytes.length });
        if (written.has(manifest.digest)) return;
        await addEntry(pack, blobPath(manifest.digest), manifest.bytes);
        written.add(manifest.digest);
      }),
    manifest: (digest) => manifests.get(digest),
    async finish(images) {
      const index = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: images.map(({ name, mediaType, digest, size }) => ({
          mediaType,
          digest,
          size,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
        })),
      };
      await entries.run(async () => {
        await layout;
        await addEntry(pack, 'index.json', Buffer.from(JSON.stringify(index)));
      });
      pack.finalize();
      await finished;
      await rename(temporary, file);
    },
    async abort() {
      pack.destroy();
      output.destroy();
      // Removed only once closed: a stream still opening would otherwise create the file after the rm (Ctrl-C early).
      if (!output.closed) await once(output, 'close').catch(() => undefined);
      await rm(temporary, { force: true }).catch(() => undefined);
    },
  };
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

function addEntry(pack: ReturnType<typeof tarPack>, name: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: bytes.length, mode: 0o644, mtime: new Date(0) }, bytes, (error) => (error ? reject(error) : resolve()));
  });
}

async function addStreamEntry(pack: ReturnType<typeof tarPack>, name: string, size: number, stream: Readable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (error) => (error ? reject(error) : resolve()));
    pipeline(stream, entry as unknown as Writable, (error) => {
      if (error) reject(error);
    });
  });
}
