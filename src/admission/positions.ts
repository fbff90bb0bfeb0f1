/** The three container lists of a PodSpec. */
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

export interface ContainerImage {
  readonly list: ImageList;
  readonly index: number;
  readonly name: string;
  readonly image: string;
}

/**
 * The one list of where a PodSpec names an image: containers, initContainers, ephemeralContainers and image volumes
 * (spec.volumes[*].image.reference, named `volume/<volume name>`). Admission, verify, policy simulation, pulls and
 * the cluster inventory all read images through here so they cannot drift (docs/adr/0065-one-podspec-image-list.md).
 * Says why when the spec is malformed.
 */
export function podSpecImagePositions(podSpec: unknown): { images: ContainerImage[] } | { problem: string } {
  if (podSpec === null || typeof podSpec !== 'object') return { problem: 'the Pod has no spec' };
  const spec = podSpec as Partial<Record<ImageList, unknown>>;
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
 * The image positions of a PodSpec read from the API server (already validated), in listing order; a malformed
 * spec (which the API server does not store) yields none.
 */
export function podSpecImages(podSpec: unknown): ContainerImage[] {
  const listed = podSpecImagePositions(podSpec);
  return 'problem' in listed ? [] : listed.images;
}
