import type { Decision, Mapper } from '../mapping/index.js';
import { Action, SkipReason } from '../mapping/index.js';
import { formatReference } from '../reference/index.js';

/** The three places a Pod names images. */
export const ContainerList = {
  containers: 'containers',
  initContainers: 'initContainers',
  ephemeralContainers: 'ephemeralContainers',
} as const;
export type ContainerList = (typeof ContainerList)[keyof typeof ContainerList];
const containerLists = Object.values(ContainerList);
/** Where a PodSpec names an image: a container list, or spec.volumes (Kubernetes image volumes, image.reference). */
export type ImageList = ContainerList | 'volumes';
/** The annotation and warning key of an image volume: `volume/<volume name>` (PRODUCT.md). */
export const volumeKeyPrefix = 'volume/';

export const labels = {
  mode: 'mirrorhook.io/mode',
  skip: 'mirrorhook.io/skip',
} as const;
export const annotations = {
  originalImages: 'mirrorhook.io/original-images',
} as const;

export interface ContainerImage {
  readonly list: ImageList;
  readonly index: number;
  readonly name: string;
  readonly image: string;
}

export interface ContainerDecision extends ContainerImage {
  readonly decision: Decision;
}

/** What a Pod looks like to mirrorhook: only the fields it reads. Anything else is carried through untouched. */
export interface PodLike {
  metadata?: { name?: string; generateName?: string; labels?: Record<string, unknown>; annotations?: Record<string, unknown> };
  spec?: Partial<Record<ImageList, unknown>> & { serviceAccountName?: unknown; imagePullSecrets?: unknown };
}

/** Where a Pod's images are pulled with: its ServiceAccount and the names of its imagePullSecrets. */
export function pullIdentity(pod: PodLike): { serviceAccount: string; imagePullSecrets: string[] } {
  const spec = pod.spec ?? {};
  const serviceAccount = typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '' ? spec.serviceAccountName : 'default';
  const secrets = Array.isArray(spec.imagePullSecrets) ? (spec.imagePullSecrets as unknown[]) : [];
  const imagePullSecrets = secrets
    .map((entry) => (entry !== null && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined))
    .filter((name): name is string => typeof name === 'string' && name !== '');
  return { serviceAccount, imagePullSecrets };
}

/** Lists every container image of a Pod-shaped object, or says why it cannot (a malformed object). */
export function containerImages(pod: unknown): { images: ContainerImage[] } | { problem: string } {
  if (pod === null || typeof pod !== 'object') return { problem: 'the object is not a Pod (not a JSON object)' };
  const spec = (pod as PodLike).spec;
  if (spec === null || typeof spec !== 'object') return { problem: 'the Pod has no spec' };
  const images: ContainerImage[] = [];
  for (const list of containerLists) {
    const containers = spec[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) return { problem: `spec.${list} is not a list` };
    for (const [index, container] of containers.entries()) {
      if (container === null || typeof container !== 'object') return { problem: `spec.${list}[${index}] is not an object` };
      const { name, image } = container as { name?: unknown; image?: unknown };
      if (typeof name !== 'string') return { problem: `spec.${list}[${index}].name is not a string` };
      // A missing image is the API server's to reject (or a default to fill); nothing to rewrite.
      if (image === undefined) continue;
      if (typeof image !== 'string') return { problem: `spec.${list}[${index}].image is not a string` };
      images.push({ list, index, name, image });
    }
  }
  const volumes = volumeImages(spec.volumes);
  if ('problem' in volumes) return volumes;
  images.push(...volumes.images);
  return { images };
}

/** The image volumes of spec.volumes; their name is `volume/<volume name>`, their image `image.reference`. */
function volumeImages(volumes: unknown): { images: ContainerImage[] } | { problem: string } {
  if (volumes === undefined || volumes === null) return { images: [] };
  if (!Array.isArray(volumes)) return { problem: 'spec.volumes is not a list' };
  const images: ContainerImage[] = [];
  for (const [index, volume] of volumes.entries()) {
    if (volume === null || typeof volume !== 'object') return { problem: `spec.volumes[${index}] is not an object` };
    const { name, image } = volume as { name?: unknown; image?: unknown };
    if (image === undefined || image === null) continue;
    if (typeof name !== 'string') return { problem: `spec.volumes[${index}].name is not a string` };
    if (typeof image !== 'object') return { problem: `spec.volumes[${index}].image is not an object` };
    const reference = (image as { reference?: unknown }).reference;
    if (reference === undefined) continue;
    if (typeof reference !== 'string') return { problem: `spec.volumes[${index}].image.reference is not a string` };
    images.push({ list: 'volumes', index, name: `${volumeKeyPrefix}${name}`, image: reference });
  }
  return { images };
}

/**
 * Decides each container. On UPDATE only images that change are considered: rewriting an image the Pod already
 * runs would restart that container for an unrelated edit (docs/adr/0004-update-rewrites-only-changed-images.md).
 */
export function decideContainers(
  images: readonly ContainerImage[],
  mapper: Mapper,
  previous: readonly ContainerImage[] | undefined,
): ContainerDecision[] {
  const before = new Map(previous?.map((image) => [`${image.list}/${image.name}`, image.image]));
  return images.map((container) => {
    const unchanged = previous !== undefined && before.get(`${container.list}/${container.name}`) === container.image;
    if (unchanged) {
      const decision = mapper.decide(container.image);
      if (decision.action === Action.rewrite) {
        return {
          ...container,
          decision: {
            action: Action.skip,
            input: container.image,
            source: decision.source,
            skipReason: SkipReason.unchangedOnUpdate,
            reason: `${SkipReason.unchangedOnUpdate}: the running container keeps its image; only changed images are rewritten`,
          },
        };
      }
      return { ...container, decision };
    }
    return { ...container, decision: mapper.decide(container.image) };
  });
}

/**
 * Returns a mutated deep copy of the Pod with rewritten images and the original-images annotation (merged with any
 * earlier one, so reinvocation keeps the first originals).
 */
export function applyRewrites(pod: PodLike, decisions: readonly ContainerDecision[]): PodLike {
  const mutated = structuredClone(pod);
  const originals: Record<string, string> = readOriginalImages(pod);
  let changed = false;
  for (const container of decisions) {
    if (container.decision.action !== Action.rewrite) continue;
    const rewritten = formatReference(container.decision.target);
    if (container.list === 'volumes') {
      const volume = (mutated.spec?.volumes as Array<{ image?: { reference: string } }>)[container.index];
      if (volume?.image === undefined) continue;
      volume.image.reference = rewritten;
    } else {
      const target = (mutated.spec?.[container.list] as Array<{ image: string }>)[container.index];
      if (target === undefined) continue;
      target.image = rewritten;
    }
    originals[container.name] ??= container.image;
    changed = true;
  }
  if (changed) {
    mutated.metadata ??= {};
    mutated.metadata.annotations ??= {};
    mutated.metadata.annotations[annotations.originalImages] = JSON.stringify(sortKeys(originals));
  }
  return mutated;
}

export function hasSkipLabel(pod: PodLike): boolean {
  return pod.metadata?.labels?.[labels.skip] === 'true';
}

export function podDisplayName(pod: PodLike, requestName: string | undefined): string {
  if (requestName !== undefined && requestName !== '') return requestName;
  if (pod.metadata?.name) return pod.metadata.name;
  if (pod.metadata?.generateName) return `${pod.metadata.generateName}*`;
  return '(unnamed)';
}

function readOriginalImages(pod: PodLike): Record<string, string> {
  const text = pod.metadata?.annotations?.[annotations.originalImages];
  if (typeof text !== 'string') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
