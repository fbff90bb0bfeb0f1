import { createHash } from 'node:crypto';
import { MirrorhookError } from '../errors.js';
import { type Descriptor, MediaType, parseManifest } from '../registry/manifest.js';
import { type Catalog, type CatalogFile, resolveFile } from './catalog.js';

/**
 * What an archive holds, ready to push: per image its names, the manifests (children before their index, so every
 * manifest is pushed after what it references) and the blobs with the archive file that holds each.
 */
export const ArchiveFormat = { dockerSave: 'docker-save', ociLayout: 'oci-layout' } as const;
export type ArchiveFormat = (typeof ArchiveFormat)[keyof typeof ArchiveFormat];

export interface ArchiveBlob {
  readonly digest: string;
  readonly size: number;
  /** The archive path holding it (after links). */
  readonly path: string;
}

export interface ArchiveManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface ArchiveImage {
  /** The names the archive gives it (`docker.io/library/nginx:1.25`); empty when it names none. */
  readonly names: readonly string[];
  /** Every manifest to push, the image's own last. */
  readonly manifests: readonly ArchiveManifest[];
  readonly blobs: readonly ArchiveBlob[];
}

export interface ArchivePlan {
  readonly format: ArchiveFormat;
  readonly images: readonly ArchiveImage[];
}

export const dockerLayerMediaType = {
  tar: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
} as const;
const dockerConfigMediaType = 'application/vnd.docker.container.image.v1+json';

/**
 * Interprets a catalog as an OCI image layout (`oci-layout` + `index.json`, preferred: its digests are kept) or a
 * docker-save archive (`manifest.json`, for which a Docker v2 manifest is built). Every problem found is listed in
 * one MH_ARCHIVE_CORRUPT: a file that does not hash to its name, a size that disagrees, a missing blob.
 */
export function planArchive(catalog: Catalog, origin: string): ArchivePlan {
  const problems: string[] = [];
  for (const file of catalog.files.values()) {
    const named = /^blobs\/(sha256|sha384|sha512)\/([a-f0-9]+)$/.exec(file.path);
    if (named !== null && `${named[1]}:${named[2]}` !== file.digest) {
      problems.push(`${file.path} hashes to ${file.digest}: the file is damaged`);
    }
  }
  let plan: ArchivePlan;
  if (catalog.files.has('index.json') && catalog.files.has('oci-layout')) plan = planOci(catalog, problems);
  else if (catalog.files.has('manifest.json')) plan = planDockerSave(catalog, problems);
  else {
    throw new MirrorhookError(
      'MH_ARCHIVE_FORMAT',
      `${origin} has neither manifest.json (docker save) nor oci-layout and index.json (OCI image layout)`,
    );
  }
  if (problems.length > 0) {
    throw new MirrorhookError('MH_ARCHIVE_CORRUPT', `${origin}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  return plan;
}

function json(file: CatalogFile | undefined, what: string): unknown {
  if (file?.bytes === undefined) {
    throw new MirrorhookError('MH_ARCHIVE_FORMAT', `${what} is missing, over ${4} MiB, or not JSON`);
  }
  try {
    return JSON.parse(file.bytes.toString('utf8'));
  } catch {
    throw new MirrorhookError('MH_ARCHIVE_FORMAT', `${what} is not valid JSON`);
  }
}

function planOci(catalog: Catalog, problems: string[]): ArchivePlan {
  const layout = json(catalog.files.get('oci-layout'), 'oci-layout') as { imageLayoutVersion?: unknown };
  if (typeof layout.imageLayoutVersion !== 'string') {
    throw new MirrorhookError('MH_ARCHIVE_FORMAT', 'oci-layout has no imageLayoutVersion');
  }
  const index = catalog.files.get('index.json');
  const parsed = parseManifestOrProblem(index?.bytes, MediaType.ociIndex, 'index.json', problems);
  if (parsed === undefined || parsed.kind !== 'index') {
    if (parsed !== undefined) problems.push('index.json is not an image index');
    return { format: ArchiveFormat.ociLayout, images: [] };
  }
  const images = parsed.manifests.map((descriptor): ArchiveImage => {
    const manifests: ArchiveManifest[] = [];
    const blobs = new Map<string, ArchiveBlob>();
    walk(catalog, descriptor, manifests, blobs, problems, new Set());
    return { names: namesOf(descriptor), manifests, blobs: [...blobs.values()] };
  });
  return { format: ArchiveFormat.ociLayout, images };
}

/** The reference an index.json entry names: containerd's full name, else ref.name when it carries a repository. */
function namesOf(descriptor: Descriptor): string[] {
  const annotations = descriptor.annotations ?? {};
  const full = annotations['io.containerd.image.name'];
  if (full !== undefined && full !== '') return [full];
  const ref = annotations['org.opencontainers.image.ref.name'];
  // A bare tag (`1.25`) names no repository.
  if (ref !== undefined && (ref.includes('/') || ref.includes(':'))) return [ref];
  return [];
}

function walk(
  catalog: Catalog,
  descriptor: Descriptor,
  manifests: ArchiveManifest[],
  blobs: Map<string, ArchiveBlob>,
  problems: string[],
  seen: Set<string>,
): void {
  if (seen.has(descriptor.digest)) return;
  seen.add(descriptor.digest);
  const file = blobFile(catalog, descriptor, problems);
  if (file === undefined) return;
  const parsed = parseManifestOrProblem(file.bytes, descriptor.mediaType, `manifest ${descriptor.digest}`, problems);
  if (parsed === undefined || file.bytes === undefined) return;
  if (parsed.kind === 'index') {
    for (const child of parsed.manifests) walk(catalog, child, manifests, blobs, problems, seen);
  } else {
    for (const blob of parsed.config === undefined ? parsed.layers : [parsed.config, ...parsed.layers]) {
      if (blob.urls !== undefined && blob.urls.length > 0 && !catalog.files.has(blobPath(blob.digest))) continue;
      const blobEntry = blobFile(catalog, blob, problems);
      if (blobEntry !== undefined) blobs.set(blob.digest, { digest: blob.digest, size: blobEntry.size, path: blobEntry.path });
    }
  }
  manifests.push({ digest: descriptor.digest, mediaType: parsed.mediaType, bytes: file.bytes });
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

function blobFile(catalog: Catalog, descriptor: Descriptor, problems: string[]): CatalogFile | undefined {
  const path = blobPath(descriptor.digest);
  const file = catalog.files.get(path);
  if (file === undefined) {
    problems.push(`${path} is missing (${descriptor.mediaType} ${descriptor.digest})`);
    return undefined;
  }
  if (file.size !== descriptor.size) {
    problems.push(`${path} is ${file.size} bytes, its descriptor says ${descriptor.size}`);
    return undefined;
  }
  return file;
}

function parseManifestOrProblem(bytes: Buffer | undefined, mediaType: string, what: string, problems: string[]) {
  if (bytes === undefined) {
    problems.push(`${what} is not JSON`);
    return undefined;
  }
  try {
    return parseManifest(bytes, mediaType, what);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

interface DockerSaveEntry {
  readonly Config?: unknown;
  readonly RepoTags?: unknown;
  readonly Layers?: unknown;
}

function planDockerSave(catalog: Catalog, problems: string[]): ArchivePlan {
  const entries = json(catalog.files.get('manifest.json'), 'manifest.json');
  if (!Array.isArray(entries)) throw new MirrorhookError('MH_ARCHIVE_FORMAT', 'manifest.json is not a list of images');
  const images = (entries as DockerSaveEntry[]).map((entry, index): ArchiveImage => {
    const where = `manifest.json[${index}]`;
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers) || !entry.Layers.every((layer) => typeof layer === 'string')) {
      throw new MirrorhookError('MH_ARCHIVE_FORMAT', `${where} needs Config (a path) and Layers (a list of paths)`);
    }
    const names = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((tag): tag is string => typeof tag === 'string') : [];
    const config = resolveFile(catalog, entry.Config);
    if (config === undefined) {
      problems.push(`${where}: the config ${entry.Config} is missing`);
      return { names, manifests: [], blobs: [] };
    }
    const configName = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config)?.[1];
    if (configName !== undefined && `sha256:${configName}` !== config.digest) {
      problems.push(`${where}: the config ${entry.Config} hashes to ${config.digest}: the file is damaged`);
    }
    const diffIds = diffIdsOf(config);
    const layers: (Descriptor & { path: string })[] = [];
    entry.Layers.forEach((layerPath, layerIndex) => {
      const layer = resolveFile(catalog, layerPath);
      if (layer === undefined) {
        problems.push(`${where}: the layer ${layerPath} is missing`);
        return;
      }
      const mediaType = layerMediaType(layer.magic);
      const diffId = diffIds?.[layerIndex];
      if (mediaType === dockerLayerMediaType.tar && diffId !== undefined && diffId !== layer.digest) {
        problems.push(`${where}: the layer ${layerPath} hashes to ${layer.digest}, the config says ${diffId}: the file is damaged`);
      }
      layers.push({ mediaType, digest: layer.digest, size: layer.size, path: layer.path });
    });
    if (diffIds !== undefined && diffIds.length !== entry.Layers.length) {
      problems.push(`${where}: ${entry.Layers.length} layers, but the config lists ${diffIds.length} diff_ids`);
    }
    const manifestBytes = Buffer.from(
      JSON.stringify(
        {
          schemaVersion: 2,
          mediaType: MediaType.dockerManifest,
          config: { mediaType: dockerConfigMediaType, size: config.size, digest: config.digest },
          layers: layers.map(({ mediaType, size, digest }) => ({ mediaType, size, digest })),
        },
        null,
        3,
      ),
    );
    return {
      names,
      manifests: [{ digest: sha256(manifestBytes), mediaType: MediaType.dockerManifest, bytes: manifestBytes }],
      blobs: dedupe([
        { digest: config.digest, size: config.size, path: config.path },
        ...layers.map(({ digest, size, path }) => ({ digest, size, path })),
      ]),
    };
  });
  return { format: ArchiveFormat.dockerSave, images };
}

function diffIdsOf(config: CatalogFile): string[] | undefined {
  if (config.bytes === undefined) return undefined;
  try {
    const parsed = JSON.parse(config.bytes.toString('utf8')) as { rootfs?: { diff_ids?: unknown } };
    const ids = parsed.rootfs?.diff_ids;
    return Array.isArray(ids) && ids.every((id) => typeof id === 'string') ? ids : undefined;
  } catch {
    return undefined;
  }
}

/** A docker-save layer is stored as the daemon had it: usually a plain tar, sometimes compressed. */
export function layerMediaType(magic: Buffer): string {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return dockerLayerMediaType.gzip;
  if (magic.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return dockerLayerMediaType.zstd;
  return dockerLayerMediaType.tar;
}

function dedupe(blobs: readonly ArchiveBlob[]): ArchiveBlob[] {
  const byDigest = new Map<string, ArchiveBlob>();
  for (const blob of blobs) if (!byDigest.has(blob.digest)) byDigest.set(blob.digest, blob);
  return [...byDigest.values()];
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
