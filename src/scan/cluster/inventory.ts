import { podSpecImages } from '../../admission/positions.js';
import type { Mapper } from '../../mapping/index.js';
import { type Standing, classify } from '../classify.js';
import { isTemplated } from '../template.js';
import { ScanSkipReason } from '../types.js';

/** The parts of a Kubernetes object the inventory reads; listed API objects and plain JSON both fit. */
export interface KubeObject {
  readonly kind?: string | undefined;
  readonly metadata?: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly ownerReferences?: readonly { readonly kind?: string; readonly controller?: boolean }[] | undefined;
  } | undefined;
  readonly spec?: unknown;
}

/** One container or image volume (`volume/<name>`) of a Pod or a workload template, judged against the mirror. */
export interface ClusterOccurrence {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly container: string;
  readonly image: string;
  readonly source: string | undefined;
  readonly standing: Standing | undefined;
  readonly skipReason?: ScanSkipReason | undefined;
}

/** The kinds the inventory lists, with where their PodSpec is. */
export const workloadPodSpecPath = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
} as const;
export type WorkloadKind = keyof typeof workloadPodSpecPath;

/**
 * Every container and image-volume image of the listed objects. A template whose controller is itself listed (a Deployment's
 * ReplicaSets, a CronJob's Jobs) is left out: its owner already names the image, and old ReplicaSets would list
 * images nothing runs any more. Pods are always listed: they are what runs now. Scaled-to-zero workloads and
 * suspended CronJobs are listed like any other: their next Pod pulls the same image.
 */
export function inventoryFromObjects(objects: readonly { kind: WorkloadKind; items: readonly KubeObject[] }[], mapper: Mapper): ClusterOccurrence[] {
  const listedKinds = new Set(objects.map((list) => list.kind));
  const occurrences: ClusterOccurrence[] = [];
  for (const { kind, items } of objects) {
    for (const object of items) {
      const controller = object.metadata?.ownerReferences?.find((owner) => owner.controller === true);
      if (kind !== 'Pod' && controller?.kind !== undefined && listedKinds.has(controller.kind as WorkloadKind)) continue;
      const podSpec = dig(object, workloadPodSpecPath[kind]);
      // Containers and image volumes (container `volume/<name>`), from the one PodSpec image list.
      for (const position of podSpecImages(podSpec)) {
        occurrences.push(judge(mapper, {
          namespace: object.metadata?.namespace ?? '',
          kind,
          name: object.metadata?.name ?? '',
          container: position.name,
          image: position.image,
        }));
      }
    }
  }
  return occurrences.sort(
    (left, right) =>
      compare(left.namespace, right.namespace) || compare(left.kind, right.kind) || compare(left.name, right.name) || compare(left.container, right.container),
  );
}

function judge(mapper: Mapper, place: Omit<ClusterOccurrence, 'source' | 'standing'>): ClusterOccurrence {
  if (isTemplated(place.image)) return { ...place, source: undefined, standing: undefined, skipReason: ScanSkipReason.templated };
  const classified = classify(mapper, place.image);
  if (classified.standing === 'invalid') {
    return { ...place, source: undefined, standing: classified.standing, skipReason: ScanSkipReason.invalidReference };
  }
  return { ...place, source: classified.source, standing: classified.standing };
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function dig(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((current, key) => field(current, key), value);
}

function compare(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
