/**
 * Manifest media types and a lenient reader for the parts of a manifest the copy engine needs: the descriptors it
 * references. The bytes are never re-serialised: a manifest's digest is the digest of the bytes the registry sent,
 * so callers keep the Buffer and only read through it.
 */
import { MirrorhookError } from '../errors.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociArtifact: 'application/vnd.oci.artifact.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** What we send as Accept for manifests: every format we can copy (schema 1 is deliberately absent). */
export const manifestAccept = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerList,
  MediaType.dockerManifest,
  MediaType.ociArtifact,
].join(', ');

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[] | undefined;
  readonly platform?: Platform | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly artifactType?: string | undefined;
}

/** A manifest as the copy engine sees it: either a list of child manifests, or blobs (config and layers). */
export type ParsedManifest =
  | { readonly kind: 'index'; readonly mediaType: string; readonly manifests: readonly Descriptor[]; readonly subject: Descriptor | undefined }
  | {
      readonly kind: 'image';
      readonly mediaType: string;
      readonly config: Descriptor | undefined;
      readonly layers: readonly Descriptor[];
      readonly subject: Descriptor | undefined;
    };

const indexTypes = new Set<string>([MediaType.ociIndex, MediaType.dockerList]);
const imageTypes = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest, MediaType.ociArtifact]);
const schema1Types = new Set<string>([MediaType.dockerSchema1, MediaType.dockerSchema1Signed]);

export function isIndexMediaType(mediaType: string): boolean {
  return indexTypes.has(mediaType);
}

export function isManifestMediaType(mediaType: string): boolean {
  return indexTypes.has(mediaType) || imageTypes.has(mediaType);
}

/** Layers that registries may not redistribute (Windows base layers): copied by nobody, reported by us. */
export function isNonDistributable(descriptor: Descriptor): boolean {
  return (
    descriptor.mediaType.includes('.nondistributable.') ||
    descriptor.mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' ||
    (descriptor.urls !== undefined && descriptor.urls.length > 0)
  );
}

/**
 * Reads a manifest's structure. `headerType` is the Content-Type the registry sent; the body's own `mediaType`
 * wins when present. Throws MH_REGISTRY_SCHEMA1 for schema 1 and MH_REGISTRY_MANIFEST_INVALID for anything else
 * we cannot copy faithfully.
 */
export function parseManifest(bytes: Uint8Array, headerType: string | undefined, where: string): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where}: the manifest is not JSON`);
  }
  if (!isRecord(body)) throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where}: the manifest is not a JSON object`);
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  const headerMediaType = headerType?.split(';')[0]?.trim();
  if (body.schemaVersion === 1 || schema1Types.has(declared ?? '') || schema1Types.has(headerMediaType ?? '')) {
    throw new MirrorhookError(
      'MH_REGISTRY_SCHEMA1',
      `${where} is a Docker schema 1 manifest; rebuild or re-push the image with a current client (schema 2 / OCI) and copy that`,
    );
  }
  let mediaType = declared ?? headerMediaType;
  if (mediaType === undefined || !isManifestMediaType(mediaType)) {
    // OCI allows mediaType to be omitted; infer it from the shape.
    if (Array.isArray(body.manifests)) mediaType = MediaType.ociIndex;
    else if (isRecord(body.config) || Array.isArray(body.blobs)) mediaType = mediaType === MediaType.ociArtifact ? mediaType : MediaType.ociManifest;
    else throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where}: unsupported manifest media type "${mediaType ?? 'none'}"`);
  }
  const subject = isRecord(body.subject) ? readDescriptor(body.subject, where) : undefined;
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(body.manifests)) throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where}: an index without "manifests"`);
    return { kind: 'index', mediaType, manifests: body.manifests.map((item) => readDescriptor(item, where)), subject };
  }
  const layersField: unknown = Array.isArray(body.layers) ? body.layers : Array.isArray(body.blobs) ? body.blobs : [];
  const layers = (layersField as unknown[]).map((item) => readDescriptor(item, where));
  const config = isRecord(body.config) ? readDescriptor(body.config, where) : undefined;
  return { kind: 'image', mediaType, config, layers, subject };
}

/** Every blob an image manifest references, config first. */
export function blobsOf(manifest: ParsedManifest): Descriptor[] {
  if (manifest.kind === 'index') return [];
  return manifest.config === undefined ? [...manifest.layers] : [manifest.config, ...manifest.layers];
}

export function formatPlatform(platform: Platform | undefined): string {
  if (platform === undefined) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter((part) => part !== undefined && part !== '').join('/');
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_.-]+$/i.test(part))) {
    throw new MirrorhookError('MH_USAGE', `--platform "${text}" is not os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  return { os: parts[0] ?? '', architecture: parts[1] ?? '', variant: parts[2] };
}

/** True when `candidate` is the platform `wanted` asks for (a missing variant in `wanted` matches any). */
export function platformMatches(wanted: Platform, candidate: Platform | undefined): boolean {
  if (candidate === undefined) return false;
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  return wanted.variant === undefined || wanted.variant === candidate.variant;
}

function readDescriptor(value: unknown, where: string): Descriptor {
  if (!isRecord(value) || typeof value.digest !== 'string' || typeof value.size !== 'number' || typeof value.mediaType !== 'string') {
    throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where}: a descriptor lacks mediaType, digest or size`);
  }
  if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(value.digest) || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where}: descriptor ${value.digest} has a malformed digest or size`);
  }
  const platform = isRecord(value.platform)
    ? {
        os: typeof value.platform.os === 'string' ? value.platform.os : '',
        architecture: typeof value.platform.architecture === 'string' ? value.platform.architecture : '',
        variant: typeof value.platform.variant === 'string' ? value.platform.variant : undefined,
      }
    : undefined;
  return {
    mediaType: value.mediaType,
    digest: value.digest,
    size: value.size,
    urls: Array.isArray(value.urls) ? value.urls.map(String) : undefined,
    platform,
    annotations: isRecord(value.annotations) ? (value.annotations as Record<string, string>) : undefined,
    artifactType: typeof value.artifactType === 'string' ? value.artifactType : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
