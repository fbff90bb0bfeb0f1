import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { canI, controlPlane, createNamespace, kubeConfig, kubectl, waitFor } from './harness.js';

// The harness itself: the API server other e2e tests rely on is the pinned version, enforces RBAC, admits Pods
// in fresh namespaces, and runs the controller manager.

describe('e2e harness', () => {
  it('runs the pinned kube-apiserver, and kubectl of the same build talks to it', async () => {
    const version = await kubectl(['version', '--output=json']);
    expect(version.code, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as { serverVersion: { gitVersion: string }; clientVersion: { gitVersion: string } };
    expect(parsed.serverVersion.gitVersion).toBe(controlPlane().kubernetesVersion);
    expect(parsed.clientVersion.gitVersion).toBe(parsed.serverVersion.gitVersion);
  });

  it('authorizes with RBAC: the tests are super-users, a fresh service account may do nothing', async () => {
    const namespace = await createNamespace();
    const nobody = `system:serviceaccount:${namespace}:default`;
    expect(await canI('e2e-admin-impersonated', 'create', 'pods', { namespace })).toBe(false);
    expect(await canI(nobody, 'list', 'pods', { namespace })).toBe(false);
    expect(await canI(nobody, 'get', 'secrets', { namespace })).toBe(false);

    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace }],
      },
    });
    expect(await canI(nobody, 'list', 'pods', { namespace })).toBe(true);
    expect(await canI(nobody, 'delete', 'pods', { namespace })).toBe(false);
    const other = await createNamespace();
    expect(await canI(nobody, 'list', 'pods', { namespace: other })).toBe(false);
  });

  it('admits Pods in a namespace just created, and the controller manager turns a ReplicaSet into Pods', async () => {
    const namespace = await createNamespace({ team: 'e2e' });
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const created = await core.readNamespace({ name: namespace });
    expect(created.metadata?.labels).toMatchObject({ team: 'e2e' });
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'solo' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } } });

    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const labels = { app: 'replicated' };
    await apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: { name: 'replicated' },
        spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } } },
      },
    });
    const pods = await waitFor('3 Pods of the ReplicaSet', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=replicated' });
      return list.items.length === 3 ? list.items : undefined;
    });
    expect(pods.every((pod) => pod.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
  });

  it('waitFor reports what it waited for when time runs out', async () => {
    await expect(waitFor('a probe that never succeeds', () => false, { timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(
      'timed out after 0.3s waiting for a probe that never succeeds',
    );
  });
});
