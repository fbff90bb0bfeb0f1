import * as k8s from '@kubernetes/client-node';
import { type Lister as KubeLister, listAll } from '../../kube/list.js';
import type { KubeObject, WorkloadKind } from './inventory.js';

type Lister = KubeLister<KubeObject>;

/**
 * Lists Pods and every workload kind across all namespaces, page by page. The edge of `scan --cluster`: the
 * inventory itself is computed from what this returns.
 */
export async function listWorkloads(config: k8s.KubeConfig): Promise<{ kind: WorkloadKind; items: KubeObject[] }[]> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const listers: Record<WorkloadKind, Lister> = {
    Pod: (request) => core.listPodForAllNamespaces(request),
    ReplicationController: (request) => core.listReplicationControllerForAllNamespaces(request),
    Deployment: (request) => apps.listDeploymentForAllNamespaces(request),
    StatefulSet: (request) => apps.listStatefulSetForAllNamespaces(request),
    DaemonSet: (request) => apps.listDaemonSetForAllNamespaces(request),
    ReplicaSet: (request) => apps.listReplicaSetForAllNamespaces(request),
    Job: (request) => batch.listJobForAllNamespaces(request),
    CronJob: (request) => batch.listCronJobForAllNamespaces(request),
  };
  const lists: { kind: WorkloadKind; items: KubeObject[] }[] = [];
  for (const [kind, list] of Object.entries(listers) as [WorkloadKind, Lister][]) {
    lists.push({ kind, items: await listAll(list, `list ${kind}s in all namespaces`) });
  }
  return lists;
}
