import * as k8s from '@kubernetes/client-node';
import { listAll } from '../kube/list.js';
import { NamespaceMode } from './model.js';

/** The label that opts a namespace in (PRODUCT.md): enforce → /mutate, audit → /audit, absent → untouched. */
export const modeLabel = 'mirrorhook.io/mode';

/** Every namespace's mode, read from its `mirrorhook.io/mode` label; an unknown value counts as not opted in. */
export async function namespaceModes(config: k8s.KubeConfig): Promise<Map<string, NamespaceMode>> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const namespaces = await listAll((page) => core.listNamespace(page), 'list namespaces');
  const modes = new Map<string, NamespaceMode>();
  for (const namespace of namespaces) {
    const name = namespace.metadata?.name;
    if (name === undefined) continue;
    const label = namespace.metadata?.labels?.[modeLabel];
    modes.set(name, label === NamespaceMode.enforce || label === NamespaceMode.audit ? label : NamespaceMode.none);
  }
  return modes;
}
