/**
 * Image archives for the archive tests, made the way users make them: small but real images (gzip layers holding
 * a tar with one file, configs whose diff_ids are the uncompressed digests) pushed into a loopback registry, then
 * `skopeo copy` into docker-archive: and oci-archive: files, plus compressed, directory and corrupt variants.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { MediaType, type RegistryClient, type RepositoryRef } from '../../src/registry/index.js';
import { pushBlob, pushManifest } from '../support/images.js';
import type { TestRegistry } from '../support/registry.js';

export const run = promisify(execFile);

async function tarOf(files: Record<string, Buffer>): Promise<Buffer> {
  const pack = tarPack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, size: content.length, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Pushes a one- or two-layer linux/amd64 image with real gzip layers; returns its manifest digest. */
export async function pushRealImage(
  client: RegistryClient,
  repo: RepositoryRef,
  tag: string,
  options: { docker?: boolean; layers?: number; layerBytes?: number } = {},
): Promise<string> {
  const docker = options.docker ?? false;
  const tars: Buffer[] = [];
  for (let index = 0; index < (options.layers ?? 2); index += 1) {
    tars.push(await tarOf({ [`file-${index}.bin`]: randomBytes(options.layerBytes ?? 20_000) }));
  }
  const layers = [];
  for (const tar of tars) {
    const gz = gzipSync(tar);
    const { digest, size } = await pushBlob(client, repo, gz);
    layers.push({ mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin'] },
      rootfs: { type: 'layers', diff_ids: tars.map(sha256) },
      history: tars.map(() => ({ created_by: 'test' })),
    }),
  );
  const configBlob = await pushBlob(client, repo, config);
  const manifestType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifest = await pushManifest(
    client,
    repo,
    tag,
    {
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers,
    },
    manifestType,
  );
  return manifest.digest;
}

/** `skopeo copy` from a plain loopback registry into `destination` (docker-archive:…, oci-archive:…, oci:…). */
export async function skopeoCopyFrom(registry: TestRegistry, reference: string, destination: string, extra: string[] = []): Promise<void> {
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', ...extra, `docker://${registry.host}/${reference}`, destination]);
}

export async function gzipFile(file: string): Promise<string> {
  await run('sh', ['-c', 'gzip -c "$1" > "$1.gz"', 'sh', file]);
  return `${file}.gz`;
}

export async function xzFile(file: string): Promise<string> {
  await run('xz', ['-k', '-T1', '-0', file]);
  return `${file}.xz`;
}

export async function untar(file: string, directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  await run('tar', ['-xf', file, '-C', directory]);
  return directory;
}

export async function tarDirectory(directory: string, file: string): Promise<string> {
  await run('tar', ['-cf', file, '-C', directory, '.']);
  return file;
}

export { join, sha256 };
