import { type ImageList, podSpecImages } from '../admission/positions.js';
import type { Mapper } from '../mapping/index.js';
import type { PullRecord } from '../pulls/events.js';
import { Standing, classify } from '../scan/classify.js';

/** The parts of a Pod verify reads. */
export interface PodLike {
  readonly metadata?: { readonly name?: string | undefined; readonly namespace?: string | undefined } | undefined;
  /** A PodSpec; its images are read through the one PodSpec image list (containers and image volumes). */
  readonly spec?: unknown;
  readonly status?: {
    readonly containerStatuses?: readonly ContainerStatusLike[] | undefined;
    readonly initContainerStatuses?: readonly ContainerStatusLike[] | undefined;
    readonly ephemeralContainerStatuses?: readonly ContainerStatusLike[] | undefined;
  } | undefined;
}

interface ContainerStatusLike {
  readonly name: string;
  readonly image?: string | undefined;
  readonly state?: { readonly running?: unknown } | undefined;
}

/** Something pulled from outside the mirror: a running container, or a recent pull. */
export interface Violation {
  readonly what: 'running' | 'pulled';
  readonly namespace: string;
  readonly pod: string;
  /** Container name (`volume/<name>` for an image volume) for a running Pod; '' for a pull (events do not say which container). */
  readonly container: string;
  readonly image: string;
  readonly source: string;
  /** Pulls counted (1 for a running container). */
  readonly count: number;
  readonly last: Date | undefined;
}

export interface VerifyReport {
  readonly violations: readonly Violation[];
  readonly runningContainers: number;
  /** Image volumes of Pods with a running container (mounted, so pulled). */
  readonly mountedVolumes: number;
  readonly recentPulls: number;
}

/**
 * The seed workflow's final check, exactly: every running container and every pull since `since` must come from
 * the mirror. References the configuration leaves out on purpose (`sources.exclude`, or outside `sources.include`)
 * do not count against it; anything else not in the mirror does, including images the mirror layout cannot hold.
 */
export function verifyCluster(pods: readonly PodLike[], pulls: readonly PullRecord[], since: Date, mapper: Mapper): VerifyReport {
  const violations: Violation[] = [];
  let runningContainers = 0;
  let mountedVolumes = 0;
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const positions = podSpecImages(pod.spec);
    const lists = [
      ['initContainers', pod.status?.initContainerStatuses],
      ['containers', pod.status?.containerStatuses],
      ['ephemeralContainers', pod.status?.ephemeralContainerStatuses],
    ] as const;
    let podRuns = false;
    for (const [list, statuses] of lists) {
      for (const status of statuses ?? []) {
        if (status.state?.running === undefined || status.state.running === null) continue;
        runningContainers += 1;
        podRuns = true;
        // The image the Pod asked for; the runtime's status.image may be a normalised or digest form of it.
        const image = positions.find((position) => position.list === list && position.name === status.name)?.image ?? status.image;
        if (image === undefined) continue;
        const source = outsideMirror(mapper, image);
        if (source !== undefined) violations.push({ what: 'running', namespace, pod: name, container: status.name, image, source, count: 1, last: undefined });
      }
    }
    // Image volumes have no status of their own: a Pod with a running container has every image volume mounted.
    if (podRuns) {
      for (const volume of positions.filter((position) => position.list === volumeList)) {
        mountedVolumes += 1;
        const source = outsideMirror(mapper, volume.image);
        if (source !== undefined) violations.push({ what: 'running', namespace, pod: name, container: volume.name, image: volume.image, source, count: 1, last: undefined });
      }
    }
  }
  let recentPulls = 0;
  for (const pull of pulls) {
    if (pull.last !== undefined && pull.last < since) continue;
    recentPulls += pull.count;
    const source = outsideMirror(mapper, pull.image);
    if (source !== undefined) {
      violations.push({ what: 'pulled', namespace: pull.namespace ?? '', pod: pull.pod ?? '', container: '', image: pull.image, source, count: pull.count, last: pull.last });
    }
  }
  violations.sort(
    (left, right) =>
      compare(left.namespace, right.namespace) || compare(left.pod, right.pod) || compare(left.what, right.what) || compare(left.container, right.container),
  );
  return { violations, runningContainers, mountedVolumes, recentPulls };
}

const volumeList: ImageList = 'volumes';

/** The fully-qualified source when the image comes from outside the mirror and should not; else undefined. */
function outsideMirror(mapper: Mapper, image: string): string | undefined {
  const classified = classify(mapper, image);
  if (classified.standing === Standing.mirrored || classified.standing === Standing.leftOut) return undefined;
  return classified.source ?? image;
}

function compare(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
