import * as k8s from '@kubernetes/client-node';
import { PullTally } from '../pulls/events.js';
import { collectPullEvents } from '../pulls/cluster.js';
import { listAll } from '../kube/list.js';
import type { PullRecord } from '../pulls/events.js';
import type { PodLike } from './verify.js';

/** Reads what verify judges: the Pods of every namespace (or one) and the Pulling events the cluster still holds. */
export async function readClusterState(config: k8s.KubeConfig, namespace?: string): Promise<{ pods: PodLike[]; pulls: PullRecord[] }> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const pods = (await listAll(
    (request) => (namespace === undefined ? core.listPodForAllNamespaces(request) : core.listNamespacedPod({ ...request, namespace })),
    namespace === undefined ? 'list Pods in all namespaces' : `list Pods in namespace ${namespace}`,
  )) as PodLike[];
  const tally = new PullTally();
  await collectPullEvents(config, tally, namespace);
  return { pods, pulls: tally.records() };
}
