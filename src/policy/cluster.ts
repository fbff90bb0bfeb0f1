import * as k8s from '@kubernetes/client-node';
import { podSpecImages } from '../admission/positions.js';
import { kubeError } from '../kube/client.js';
import type { InventoryItem } from './simulate.js';

/** The slice of the Kubernetes API the simulation needs; tests may pass their own. */
export type ListPods = () => Promise<readonly k8s.V1Pod[]>;

/** Lists every Pod in every namespace, page by page. */
export function listAllPods(config: k8s.KubeConfig): ListPods {
  const api = config.makeApiClient(k8s.CoreV1Api);
  return async () => {
    const pods: k8s.V1Pod[] = [];
    let continueToken: string | undefined;
    do {
      let page: k8s.V1PodList;
      try {
        page = await api.listPodForAllNamespaces({ limit: 500, _continue: continueToken });
      } catch (error) {
        throw kubeError(error, 'listing Pods in all namespaces');
      }
      pods.push(...page.items);
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken !== undefined);
    return pods;
  };
}

/**
 * The images running Pods use, once per image, namespace and service account (the keys the policy's rules are
 * chosen by); the location names the first Pod and how many more use it.
 */
export function podInventory(pods: readonly k8s.V1Pod[]): InventoryItem[] {
  const byKey = new Map<string, { item: InventoryItem; pods: Set<string> }>();
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '(unnamed)';
    const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
    // Containers and image volumes alike (src/admission/positions.ts).
    for (const container of podSpecImages(pod.spec)) {
      const key = `${container.image}\u0000${namespace}\u0000${serviceAccount}`;
      const seen = byKey.get(key) ?? {
        item: { image: container.image, location: `pod ${namespace}/${name}`, namespace, serviceAccount },
        pods: new Set<string>(),
      };
      seen.pods.add(name);
      byKey.set(key, seen);
    }
  }
  return [...byKey.values()].map(({ item, pods: users }) =>
    users.size > 1 ? { ...item, location: `${item.location} (+${users.size - 1} more)` } : item,
  );
}
