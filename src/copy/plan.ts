/**
 * The pure half of the copy engine: what to copy (requests from arguments or an images.txt through the mapper),
 * which children of an index to keep for `--platform`, and the cosign tags that belong to a digest.
 */
import { MirrorhookError } from '../errors.js';
import { type Mapper } from '../mapping/index.js';
import { type ImageReference, formatReference } from '../reference/index.js';
import { type Descriptor, type Platform, platformMatches } from '../registry/manifest.js';

export interface CopyRequest {
  readonly source: ImageReference;
  readonly target: ImageReference;
}

/** A line of an image list that could not become a request, with the reason. */
export interface RejectedLine {
  readonly line: number;
  readonly input: string;
  readonly reason: string;
}

/**
 * Reads an images.txt: one reference per line, `#` comments and blank lines ignored, each line mapped through the
 * configuration's mapper (the same decision the webhook makes). Lines the mapper skips or finds invalid are
 * returned as rejected, not thrown, so one bad line does not stop the others.
 */
export function requestsFromList(text: string, mapper: Mapper): { requests: CopyRequest[]; rejected: RejectedLine[] } {
  const requests: CopyRequest[] = [];
  const rejected: RejectedLine[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const input = raw.replace(/#.*$/, '').trim();
    if (input === '') return;
    const decision = mapper.decide(input);
    if (decision.action !== 'rewrite') {
      rejected.push({ line: index + 1, input, reason: `${decision.action}: ${decision.reason}` });
      return;
    }
    if (decision.remote !== undefined) {
      // A remote repository (pull-through cache) fetches the image itself and refuses pushes.
      rejected.push({ line: index + 1, input, reason: `remote: ${decision.reason}` });
      return;
    }
    const { source, target } = decision;
    const key = `${formatReference(source)} ${formatReference(target)}`;
    if (seen.has(key)) return;
    seen.add(key);
    requests.push({ source, target });
  });
  return { requests, rejected };
}

/** `copy --all-tags`: each tag of the source repository to the same tag of the target repository. */
export function requestsForTags(source: ImageReference, target: ImageReference, tags: readonly string[]): CopyRequest[] {
  return tags.map((tag) => ({ source: { ...source, tag, digest: undefined }, target: { ...target, tag, digest: undefined } }));
}

/** The tag or digest to fetch the source by: the digest when both are given (it cannot move). */
export function sourceSelector(source: ImageReference): string {
  return source.digest ?? source.tag ?? 'latest';
}

/**
 * MH_REGISTRY_NOT_FOUND for a source that is not there. A tagless source names the tag tried: its repository may
 * well exist, and "…/team/app does not exist" would send the user looking for the wrong thing.
 */
export function sourceNotFound(source: ImageReference): MirrorhookError {
  const image = formatReference(source);
  if (source.tag !== undefined || source.digest !== undefined) return new MirrorhookError('MH_REGISTRY_NOT_FOUND', `${image} does not exist in the source registry`);
  return new MirrorhookError('MH_REGISTRY_NOT_FOUND', `${image}:latest (no tag given, so :latest was tried) does not exist in the source registry; name the tag: ${image}:TAG`);
}

/**
 * The target's tag: the target's own, else the source's (a `copy SRC DST` with a tagless DST keeps the tag),
 * else none (digest-only copy).
 */
export function targetTag(request: CopyRequest): string | undefined {
  if (request.target.tag !== undefined) return request.target.tag;
  if (request.target.digest !== undefined) return undefined;
  return request.source.tag ?? (request.source.digest === undefined ? 'latest' : undefined);
}

const attestationReferenceAnnotation = 'vnd.docker.reference.digest';

/**
 * The children of an index that `--platform` keeps: the matching platforms, plus attestation manifests
 * (platform unknown/unknown) that refer to a kept child.
 */
export function selectChildren(manifests: readonly Descriptor[], platforms: readonly Platform[]): Descriptor[] {
  const kept = manifests.filter((child) => platforms.some((platform) => platformMatches(platform, child.platform)));
  const keptDigests = new Set(kept.map((child) => child.digest));
  return manifests.filter(
    (child) =>
      keptDigests.has(child.digest) ||
      (child.annotations?.[attestationReferenceAnnotation] !== undefined && keptDigests.has(child.annotations[attestationReferenceAnnotation] ?? '')),
  );
}

/** True for buildx attestation manifests inside an index. */
export function isAttestation(descriptor: Descriptor): boolean {
  return descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

export const cosignSuffixes = ['sig', 'att', 'sbom'] as const;

/** `sha256-<hex>.sig` and friends: where cosign stores signatures, attestations and SBOMs of a digest. */
export function cosignTags(digest: string): string[] {
  const tagBase = digest.replace(':', '-');
  return cosignSuffixes.map((suffix) => `${tagBase}.${suffix}`);
}

/** `sha256-<hex>`: the OCI referrers tag schema for registries without the referrers API. */
export function referrersFallbackTag(digest: string): string {
  return digest.replace(':', '-');
}
