import { copyFile, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArchivePlan, openArchive, planArchive, readCatalog, targetsOf, xzDecompressorFor } from '../../src/archive/index.js';
import { createMapper } from '../../src/mapping/index.js';
import { isMirrorhookError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/index.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { gzipFile, join, pushRealImage, run, skopeoCopyFrom, tarDirectory, untar, xzFile } from './fixtures.js';

let registry: TestRegistry;
let client: RegistryClient;
let dir: string;
let appDigest: string;
let ociTar: string;
let dockerTar: string;

async function plan(file: string): Promise<ArchivePlan> {
  return planArchive(await readCatalog(await openArchive(file)), file);
}

async function refusal(file: string): Promise<{ code: string; message: string }> {
  try {
    await plan(file);
  } catch (error) {
    if (isMirrorhookError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`${file} was accepted`);
}

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient();
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-archive-'));
  appDigest = await pushRealImage(client, { domain: registry.host, path: 'team/app' }, '1');
  await pushRealImage(client, { domain: registry.host, path: 'team/tool' }, '2', { docker: true, layers: 3 });
  ociTar = join(dir, 'app.oci.tar');
  dockerTar = join(dir, 'tool.docker.tar');
  await skopeoCopyFrom(registry, 'team/app:1', `oci-archive:${ociTar}:docker.io/team/app:1`);
  await skopeoCopyFrom(registry, 'team/tool:2', `docker-archive:${dockerTar}:docker.io/team/tool:2`);
  await copyFile(ociTar, ociTar.replace(/\.tar$/, '-copy.tar'));
});

afterAll(async () => {
  await client.close();
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('reading archives made by skopeo', () => {
  it('reads an OCI archive with its digests kept', async () => {
    const result = await plan(ociTar);
    expect(result.format).toBe('oci-layout');
    expect(result.images).toHaveLength(1);
    const [image] = result.images;
    expect(image?.names).toEqual(['docker.io/team/app:1']);
    expect(image?.manifests.at(-1)?.digest).toBe(appDigest);
    expect(image?.blobs).toHaveLength(3);
  });

  it('reads a docker-save archive and builds a Docker v2 manifest over its layer tars', async () => {
    const result = await plan(dockerTar);
    expect(result.format).toBe('docker-save');
    const [image] = result.images;
    expect(image?.names).toEqual(['docker.io/team/tool:2']);
    const manifest = JSON.parse(image?.manifests[0]?.bytes.toString() ?? '{}') as {
      mediaType: string;
      config: { digest: string };
      layers: { mediaType: string; digest: string }[];
    };
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    // skopeo stores docker-archive layers uncompressed: their digests are the config's diff_ids.
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual(Array(3).fill('application/vnd.docker.image.rootfs.diff.tar'));
    expect(image?.blobs.map((blob) => blob.digest)).toEqual([manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]);
  });

  it('reads the same images from .tar.gz, .tar.xz and an unpacked folder', async () => {
    const expected = (await plan(ociTar)).images.map((image) => image.manifests.map((manifest) => manifest.digest));
    const folder = await untar(ociTar, join(dir, 'app-folder'));
    for (const variant of [await gzipFile(ociTar), await xzFile(ociTar), folder]) {
      const source = await openArchive(variant);
      expect(source.kind).toBe(variant.endsWith('.gz') ? 'tar.gz' : variant.endsWith('.xz') ? 'tar.xz' : 'directory');
      expect((await plan(variant)).images.map((image) => image.manifests.map((manifest) => manifest.digest))).toEqual(expected);
    }
    const dockerGz = await gzipFile(dockerTar);
    expect((await plan(dockerGz)).images[0]?.manifests[0]?.digest).toBe((await plan(dockerTar)).images[0]?.manifests[0]?.digest);
  });

  it('reads several images from one OCI layout', async () => {
    const layout = join(dir, 'two');
    await skopeoCopyFrom(registry, 'team/app:1', `oci:${layout}:docker.io/team/app:1`);
    await skopeoCopyFrom(registry, 'team/tool:2', `oci:${layout}:docker.io/team/tool:2`);
    const result = await plan(await tarDirectory(layout, join(dir, 'two.tar')));
    expect(result.images.map((image) => image.names)).toEqual([['docker.io/team/app:1'], ['docker.io/team/tool:2']]);
  });
});

describe('names and tools', () => {
  const mapper = createMapper({
    mirror: { registry: 'air.example/ns', layout: 'host-path' },
    sources: { include: ['**'], exclude: [] },
  });

  it('places named images by the mirror layout and refuses an image that names only a tag', async () => {
    const named = await plan(ociTar);
    expect(targetsOf(named, mapper, ociTar).map((target) => [target.repository.path, target.reference])).toEqual([
      ['ns/docker.io/team/app', '1'],
    ]);
    const tagOnly = join(dir, 'tag-only.tar');
    await skopeoCopyFrom(registry, 'team/app:1', `oci-archive:${tagOnly}:1.0`);
    let caught: unknown;
    try {
      targetsOf(await plan(tagOnly), mapper, tagOnly);
    } catch (error) {
      caught = error;
    }
    expect(isMirrorhookError(caught, 'MH_ARCHIVE_UNNAMED')).toBe(true);
    expect((caught as Error).message).toMatch(/image 1 \(sha256:[a-f0-9]{64}\) has no name with a repository/);
  });

  it('reads several images from one docker-save archive', async () => {
    const merged = join(dir, 'merged');
    await untar(dockerTar, merged);
    const second = join(dir, 'second.tar');
    await skopeoCopyFrom(registry, 'team/app:1', `docker-archive:${second}:docker.io/team/app:1`);
    const secondDir = await untar(second, join(dir, 'second'));
    const first = JSON.parse(await readFile(join(merged, 'manifest.json'), 'utf8')) as unknown[];
    const other = JSON.parse(await readFile(join(secondDir, 'manifest.json'), 'utf8')) as unknown[];
    // Layers and configs are named by digest, so the two archives' files sit side by side without clashing.
    await run('cp', ['-an', `${secondDir}/.`, `${merged}/`]);
    await writeFile(join(merged, 'manifest.json'), JSON.stringify([...first, ...other]));
    const result = await plan(await tarDirectory(merged, join(dir, 'merged.tar')));
    expect(result.format).toBe('docker-save');
    expect(result.images.map((image) => image.names)).toEqual([['docker.io/team/tool:2'], ['docker.io/team/app:1']]);
  });

  it('follows links to layers inside an unpacked docker-save folder, never out of it', async () => {
    const folder = await untar(dockerTar, join(dir, 'linked'));
    const manifestFile = join(folder, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { Layers: string[] }[];
    const first = manifest[0]?.Layers[0] ?? '';
    await (await import('node:fs/promises')).mkdir(join(folder, 'legacy'));
    await (await import('node:fs/promises')).symlink(`../${first}`, join(folder, 'legacy', 'layer.tar'));
    manifest[0]!.Layers[0] = 'legacy/layer.tar';
    await writeFile(manifestFile, JSON.stringify(manifest));
    const [image] = (await plan(folder)).images;
    expect(image?.blobs.map((blob) => blob.path)).toContain('legacy/layer.tar');
    // A link that leaves the folder is not read: the layer it stands for is missing.
    await rm(join(folder, 'legacy', 'layer.tar'));
    await (await import('node:fs/promises')).symlink(join(dir, 'linked-outside.tar'), join(folder, 'legacy', 'layer.tar'));
    await copyFile(join(folder, first), join(dir, 'linked-outside.tar'));
    expect((await refusal(folder)).message).toContain('the layer legacy/layer.tar is missing');
  });

  it('says so when the xz program is missing', async () => {
    const xz = await xzFile(ociTar.replace(/\.tar$/, '-copy.tar'));
    let caught: unknown;
    try {
      await readCatalog(await openArchive(xz, xzDecompressorFor('/nonexistent/xz')));
    } catch (error) {
      caught = error;
    }
    expect(isMirrorhookError(caught, 'MH_ARCHIVE_XZ')).toBe(true);
    expect((caught as Error).message).toMatch(/cannot run xz \(ENOENT\); install xz-utils/);
  });
});

describe('refusing corrupt archives', () => {
  it('refuses a truncated tar.gz, saying it is truncated', async () => {
    const gz = join(dir, 'cut.tar.gz');
    await copyFile(await gzipFile(ociTar), gz);
    const { size } = await import('node:fs').then((fs) => fs.statSync(gz));
    await truncate(gz, Math.floor(size / 2));
    const { code, message } = await refusal(gz);
    expect(code).toBe('MH_ARCHIVE_CORRUPT');
    expect(message).toMatch(/truncated/);
  });

  it('calls a damaged tar.gz damaged, not truncated', async () => {
    const gz = join(dir, 'damaged.tar.gz');
    const bytes = await readFile(await gzipFile(ociTar));
    // Garble the deflate data just after the 10-byte gzip header: zlib refuses it long before the file ends.
    bytes.fill(0xff, 10, 60);
    await writeFile(gz, bytes);
    const { code, message } = await refusal(gz);
    expect(code).toBe('MH_ARCHIVE_CORRUPT');
    expect(message).not.toMatch(/truncated/);
  });

  it('refuses a truncated tar.xz and a truncated plain tar', async () => {
    const xz = join(dir, 'cut.tar.xz');
    await copyFile(await xzFile(dockerTar), xz);
    await truncate(xz, 2000);
    expect(await refusal(xz)).toMatchObject({ code: 'MH_ARCHIVE_CORRUPT' });
    const tar = join(dir, 'cut.tar');
    await copyFile(ociTar, tar);
    await truncate(tar, 30_000);
    const { code, message } = await refusal(tar);
    expect(code).toBe('MH_ARCHIVE_CORRUPT');
    expect(message).toMatch(/truncated/);
  });

  it('refuses a blob whose bytes do not match its digest, and a missing blob', async () => {
    const folder = await untar(ociTar, join(dir, 'damaged'));
    const blobs = join(folder, 'blobs', 'sha256');
    const names = await readdir(blobs);
    const largest = (await Promise.all(names.map(async (name) => ({ name, size: (await readFile(join(blobs, name))).length })))).sort(
      (a, b) => b.size - a.size,
    )[0]?.name ?? '';
    const bytes = await readFile(join(blobs, largest));
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(join(blobs, largest), bytes);
    expect((await refusal(folder)).message).toContain(`blobs/sha256/${largest} hashes to sha256:`);
    await rm(join(blobs, largest));
    expect((await refusal(folder)).message).toContain(`blobs/sha256/${largest} is missing`);
  });

  it('refuses a docker-save layer that does not match its diff_id', async () => {
    const folder = await untar(dockerTar, join(dir, 'docker-damaged'));
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const layer = manifest[0]?.Layers[1] ?? '';
    const bytes = await readFile(join(folder, layer));
    bytes[600] = (bytes[600] ?? 0) ^ 0x01;
    await writeFile(join(folder, layer), bytes);
    const { code, message } = await refusal(folder);
    expect(code).toBe('MH_ARCHIVE_CORRUPT');
    expect(message).toMatch(/the config says sha256:[a-f0-9]{64}: the file is damaged/);
  });

  it('says when a folder is neither format, and when the archive does not exist', async () => {
    const empty = join(dir, 'empty');
    await (await import('node:fs/promises')).mkdir(empty);
    expect(await refusal(empty)).toMatchObject({ code: 'MH_ARCHIVE_FORMAT' });
    expect(await refusal(join(dir, 'absent.tar'))).toMatchObject({ code: 'MH_ARCHIVE_READ' });
  });
});
