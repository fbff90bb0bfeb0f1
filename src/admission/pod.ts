import type { Decision, Mapper } from '../mapping/index.js';
import { Action, SkipReason } from '../mapping/index.js';
import { formatReference } from '../reference/index.js';
import { type ContainerImage, type ImageList, podSpecImagePositions } from './positions.js';

export { ContainerList, type ContainerImage, type ImageList, volumeKeyPrefix } from './positions.js';

export const labels = {
  mode: 'mirrorhook.io/mode',
  skip: 'mirrorhook.io/skip',
} as const;
export const annotations = {
  originalImages: 'mirrorhook.io/original-images',
} as const;

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

/** Lists every image position of a Pod-shaped object, or says why it cannot (a malformed object). */
export function containerImages(pod: unknown): { images: ContainerImage[] } | { problem: string } {
  if (pod === null || typeof pod !== 'object') return { problem: 'the object is not a Pod (not a JSON object)' };
  return podSpecImagePositions((pod as PodLike).spec);
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
 * Returns a mutated copy of the Pod with rewritten images and the original-images annotation (merged with any
 * earlier one, so reinvocation keeps the first originals). Copy on write: only the objects on a changed path (the
 * Pod, its spec, a rewritten list and item, metadata and annotations) are new, the rest is shared with `pod`, which
 * is never modified. A deep copy of every Pod was an eighth of the webhook's CPU under load (ADR 0161).
 */
export function applyRewrites(pod: PodLike, decisions: readonly ContainerDecision[]): PodLike {
  const spec: Record<string, unknown> = { ...pod.spec };
  const copiedLists = new Map<ImageList, unknown[]>();
  const listToChange = (list: ImageList): unknown[] | undefined => {
    let copy = copiedLists.get(list);
    if (copy === undefined) {
      const original = spec[list];
      if (!Array.isArray(original)) return undefined;
      copy = [...(original as unknown[])];
      spec[list] = copy;
      copiedLists.set(list, copy);
    }
    return copy;
  };
  const originals: Record<string, string> = readOriginalImages(pod);
  let changed = false;
  for (const container of decisions) {
    if (container.decision.action !== Action.rewrite) continue;
    const rewritten = formatReference(container.decision.target);
    const list = listToChange(container.list);
    if (container.list === 'volumes') {
      const volume = list?.[container.index] as { image?: { reference: string } } | undefined;
      if (list === undefined || volume?.image === undefined) continue;
      list[container.index] = { ...volume, image: { ...volume.image, reference: rewritten } };
    } else {
      const target = list?.[container.index] as { image: string } | undefined;
      if (list === undefined || target === undefined) continue;
      list[container.index] = { ...target, image: rewritten };
    }
    originals[container.name] ??= container.image;
    changed = true;
  }
  if (!changed) return pod;
  return {
    ...pod,
    spec,
    metadata: {
      ...pod.metadata,
      annotations: { ...pod.metadata?.annotations, [annotations.originalImages]: JSON.stringify(sortKeys(originals)) },
    },
  };
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
