import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable, type Writable, pipeline } from 'node:stream';
import { pipeline as pipelinePromise } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { MirrorhookError } from '../errors.js';
import { type ImageReference, formatReference, manifestSelector } from '../reference/index.js';
import { type Descriptor, type RegistryClient, type RepositoryRef, isNonDistributable } from '../registry/index.js';

export interface PulledImage {
  readonly reference: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly blobs: number;
  readonly bytes: number;
}

/** How the archive is compressed, from its name: `.tar.gz`/`.tgz` gzip, `.tar.xz` xz, anything else plain tar. */
export function compressionFor(file: string): 'none' | 'gzip' | 'xz' {
  if (/\.(tar\.gz|tgz)$/i.test(file)) return 'gzip';
  if (/\.tar\.xz$/i.test(file)) return 'xz';
  return 'none';
}

interface Planned {
  readonly reference: ImageReference;
  readonly repository: RepositoryRef;
  readonly root: Descriptor;
  readonly manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  readonly blobs: Map<string, number>;
}

/**
 * Writes the images, every platform, into one OCI image layout tar (`oci-layout`, `index.json` naming each image by
 * its full reference, `blobs/sha256/…`), digests unchanged, for carrying into an air gap and `push`ing there.
 * Manifests are fetched first; blobs then stream from the registry straight into the tar, one at a time. The file
 * appears only when complete (written beside it, then renamed).
 */
export async function pullToArchive(
  references: readonly ImageReference[],
  client: RegistryClient,
  file: string,
  onImage: (image: PulledImage) => void = () => undefined,
): Promise<PulledImage[]> {
  const planned: Planned[] = [];
  for (const reference of references) planned.push(await planImage(client, reference));

  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const pack = tarPack();
  const output = createWriteStream(temporary);
  const compression = compressionFor(file);
  let finished: Promise<void>;
  if (compression === 'gzip') finished = pipelinePromise(pack as unknown as Readable, createGzip(), output);
  else if (compression === 'xz') finished = compressWithXz(pack as unknown as Readable, output);
  else finished = pipelinePromise(pack as unknown as Readable, output);
  finished.catch(() => undefined);

  const results: PulledImage[] = [];
  try {
    const layout = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await addEntry(pack, 'oci-layout', layout);
    const written = new Set<string>();
    for (const image of planned) {
      let bytes = 0;
      for (const [digest, manifest] of image.manifests) {
        if (written.has(digest)) continue;
        await addEntry(pack, blobPath(digest), manifest.bytes);
        written.add(digest);
      }
      for (const [digest, size] of image.blobs) {
        if (written.has(digest)) continue;
        const stream = await client.getBlobStream(image.repository, digest, size);
        await addStreamEntry(pack, blobPath(digest), size, stream);
        written.add(digest);
        bytes += size;
      }
      const result = {
        reference: formatReference(image.reference),
        digest: image.root.digest,
        mediaType: image.root.mediaType,
        blobs: image.blobs.size,
        bytes,
      };
      results.push(result);
      onImage(result);
    }
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: planned.map((image) => {
        const name = formatReference({ ...image.reference, digest: undefined });
        return {
          mediaType: image.root.mediaType,
          digest: image.root.digest,
          size: image.root.size,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
        };
      }),
    };
    await addEntry(pack, 'index.json', Buffer.from(JSON.stringify(index)));
    pack.finalize();
    await finished;
    await rename(temporary, file);
  } catch (error) {
    pack.destroy();
    output.destroy();
    // Removed only once closed: a stream still opening would otherwise create the file after the rm (Ctrl-C early).
    if (!output.closed) await once(output, 'close').catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined);
    if (error instanceof MirrorhookError) throw error;
    throw new MirrorhookError('MH_ARCHIVE_WRITE', `${file}: ${(error as Error).message}`, { cause: error });
  }
  return results;
}

async function planImage(client: RegistryClient, reference: ImageReference): Promise<Planned> {
  const repository = { domain: reference.domain, path: reference.path };
  const top = await client.getManifest(repository, manifestSelector(reference));
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  const blobs = new Map<string, number>();
  manifests.set(top.digest, { bytes: top.bytes, mediaType: top.mediaType });
  const children = top.parsed.kind === 'index' ? top.parsed.manifests : [];
  const images = [top.parsed];
  for (const child of children) {
    const manifest = await client.getManifest(repository, child.digest);
    manifests.set(manifest.digest, { bytes: manifest.bytes, mediaType: manifest.mediaType });
    if (manifest.parsed.kind === 'index') {
      throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${formatReference(reference)}: an index inside an index is not supported`);
    }
    images.push(manifest.parsed);
  }
  for (const image of images) {
    if (image.kind !== 'image') continue;
    for (const blob of image.config === undefined ? image.layers : [image.config, ...image.layers]) {
      if (!isNonDistributable(blob)) blobs.set(blob.digest, blob.size);
    }
  }
  // Put the index (or single manifest) last so children precede it in the tar, as readers expect nothing of order.
  const root: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
  return { reference, repository, root, manifests, blobs };
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

function compressWithXz(input: Readable, output: Writable): Promise<void> {
  const child = spawn('xz', ['-zc', '-T1', '-6'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new MirrorhookError('MH_ARCHIVE_XZ', `cannot run xz (${(error as NodeJS.ErrnoException).code ?? error.message}); install xz-utils`)),
    );
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`xz: ${Buffer.concat(stderr).toString().trim()}`))));
  });
  return Promise.all([pipelinePromise(input, child.stdin), pipelinePromise(child.stdout, output), exited]).then(() => undefined);
}
