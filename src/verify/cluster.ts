import * as k8s from '@kubernetes/client-node';
import { PullTally } from '../pulls/events.js';
import { collectPullEvents } from '../pulls/cluster.js';
import { listAll } from '../scan/cluster/list.js';
import type { PullRecord } from '../pulls/events.js';
import type { PodLike } from './verify.js';

/** Reads what verify judges: the Pods of every namespace and the Pulling events the cluster still holds. */
export async function readClusterState(config: k8s.KubeConfig): Promise<{ pods: PodLike[]; pulls: PullRecord[] }> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const pods = (await listAll((request) => core.listPodForAllNamespaces(request), 'list Pods in all namespaces')) as PodLike[];
  const tally = new PullTally();
  await collectPullEvents(config, tally);
  return { pods, pulls: tally.records() };
}
