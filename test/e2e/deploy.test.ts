import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { join } from 'node:path';
import { repoRoot } from './control-plane.js';
import { asUser, canI, createNamespace, kubeConfig, kubectl, waitFor } from './harness.js';

// deploy/ as users install it: the kustomize base rendered by the pinned kubectl, server-side applied to the real
// API server, its Deployment turned into Pods by the controller manager, and its RBAC checked against what the
// webhook needs, no more.

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; resourceVersion?: string };
  [key: string]: unknown;
}

const serviceAccount = 'system:serviceaccount:mirrorhook:mirrorhook';

async function render(path: string): Promise<{ text: string; objects: KubeObject[] }> {
  const result = await kubectl(['kustomize', join(repoRoot, path)]);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${path} failed: ${result.stderr}`);
  const objects = parseAllDocuments(result.stdout).map((document) => document.toJS() as KubeObject);
  return { text: result.stdout, objects };
}

function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`rendered output has no ${kind} ${name}`);
  return found;
}

/** `group/resource:verb` for every rule the user has in the namespace (SelfSubjectRulesReview as that user). */
async function permissions(user: string, namespace: string): Promise<Set<string>> {
  const review = await asUser(user)
    .makeApiClient(k8s.AuthorizationV1Api)
    .createSelfSubjectRulesReview({ body: { spec: { namespace } } });
  const granted = new Set<string>();
  for (const rule of review.status?.resourceRules ?? []) {
    for (const group of rule.apiGroups ?? [''])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs) granted.add(`${group}/${resource}:${verb}${(rule.resourceNames ?? []).length > 0 ? ` (${rule.resourceNames?.join(',')})` : ''}`);
  }
  return granted;
}

describe('deploy/ applied to a real API server', () => {
  let base: { text: string; objects: KubeObject[] };

  beforeAll(async () => {
    base = await render('deploy/base');
  });

  afterAll(async () => {
    if (base !== undefined) await kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], { input: base.text });
  });

  it('is accepted by server-side apply, and applying it again changes nothing', async () => {
    const applied = await kubectl(['apply', '--server-side', '--field-manager=mirrorhook-e2e', '-f', '-'], { input: base.text });
    expect(applied.code, applied.stderr).toBe(0);

    const versions = async (): Promise<string[]> => {
      const listed = await kubectl(['get', '-f', '-', '-o', 'json'], { input: base.text });
      expect(listed.code, listed.stderr).toBe(0);
      const items = (JSON.parse(listed.stdout) as { items: KubeObject[] }).items;
      expect(items.map((item) => `${item.kind}/${item.metadata.name}`).sort()).toEqual(
        base.objects.map((object) => `${object.kind}/${object.metadata.name}`).sort(),
      );
      return items.map((item) => `${item.kind}/${item.metadata.name}@${item.metadata.resourceVersion ?? ''}`);
    };
    const first = await versions();
    const again = await kubectl(['apply', '--server-side', '--field-manager=mirrorhook-e2e', '-f', '-'], { input: base.text });
    expect(again.code, again.stderr).toBe(0);
    expect(await versions()).toEqual(first);
  });

  it('runs: the Deployment gets its Pods, as the mirrorhook ServiceAccount, opted out of its own webhook', async () => {
    const deployment = find(base.objects, 'Deployment', 'mirrorhook') as unknown as k8s.V1Deployment;
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const pods = await waitFor('the mirrorhook Deployment to create its Pods', async () => {
      const list = await core.listNamespacedPod({ namespace: 'mirrorhook', labelSelector: 'app.kubernetes.io/name=mirrorhook' });
      return list.items.length === deployment.spec?.replicas ? list.items : undefined;
    });
    for (const pod of pods) {
      expect(pod.spec?.serviceAccountName).toBe('mirrorhook');
      expect(pod.metadata?.labels?.['mirrorhook.io/skip']).toBe('true');
      expect(pod.spec?.containers[0]?.image).toBe('ghcr.io/mirrorhook/mirrorhook:0.1.0');
    }
    const service = await core.readNamespacedService({ namespace: 'mirrorhook', name: 'mirrorhook' });
    expect(service.spec?.ports?.[0]?.port).toBe(443);
    expect(service.spec?.selector).toEqual(deployment.spec?.selector.matchLabels);
  });

  it('ships a configuration that mirrorhook accepts', () => {
    const configMap = base.objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('mirrorhook-config'));
    const text = (configMap as { data?: Record<string, string> } | undefined)?.data?.['mirrorhook.yaml'];
    expect(text).toBeDefined();
    expect(parseConfigText(text ?? '', 'deploy/base/mirrorhook.yaml').mirror.registry).toBe('registry.example.com/mirror');
  });

  it('grants the webhook ServiceAccount exactly what it needs', async () => {
    // Compared with a ServiceAccount that has no bindings, the difference is mirrorhook's own grants.
    const baselineNamespace = await createNamespace();
    const nobody = `system:serviceaccount:${baselineNamespace}:default`;
    const needsEverywhere = [
      '/secrets:list', // pull secrets of the Pod and of its ServiceAccount: copy credentials, through a watch
      '/secrets:watch',
      '/serviceaccounts:list',
      '/serviceaccounts:watch',
      '/events:create', // a Warning Event in the Pod's namespace when a copy fails
    ];
    const needsInOwnNamespace = ['coordination.k8s.io/leases:get', 'coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:update', 'coordination.k8s.io/leases:delete'];

    for (const [namespace, expected] of [
      ['mirrorhook', [...needsEverywhere, ...needsInOwnNamespace]],
      ['default', needsEverywhere],
    ] as const) {
      const baseline = await permissions(nobody, namespace);
      const granted = [...(await permissions(serviceAccount, namespace))].filter((permission) => !baseline.has(permission));
      expect(granted.sort(), `namespace ${namespace}`).toEqual([...expected].sort());
    }

    // Cluster-wide list and watch (what an informer does), but no reading a Secret by name, and no writes.
    expect(await canI(serviceAccount, 'list', 'secrets')).toBe(true);
    expect(await canI(serviceAccount, 'watch', 'serviceaccounts')).toBe(true);
    expect(await canI(serviceAccount, 'get', 'secrets', { namespace: 'default', name: 'anything' })).toBe(false);
    expect(await canI(serviceAccount, 'update', 'mutatingwebhookconfigurations', { group: 'admissionregistration.k8s.io', name: 'mirrorhook' })).toBe(false);
    expect(await canI(serviceAccount, 'patch', 'pods', { namespace: 'default' })).toBe(false);
    expect(await canI(serviceAccount, 'create', 'leases', { namespace: 'default', group: 'coordination.k8s.io' })).toBe(false);

    // The same answers through `kubectl auth can-i --as`, as an operator would check.
    const allowed = await kubectl(['auth', 'can-i', 'watch', 'secrets', '--all-namespaces', `--as=${serviceAccount}`]);
    expect(allowed.stdout.trim()).toBe('yes');
    const denied = await kubectl(['auth', 'can-i', 'delete', 'leases.coordination.k8s.io', '-n', 'kube-system', `--as=${serviceAccount}`]);
    expect(denied.stdout.trim()).toBe('no');
  });

  it('renders the cert-manager overlay: CA injection annotation and a certificate for the Service the webhook calls', async () => {
    const overlay = await render('deploy/overlays/cert-manager');
    const configuration = find(overlay.objects, 'MutatingWebhookConfiguration', 'mirrorhook');
    const certificate = find(overlay.objects, 'Certificate', 'mirrorhook-tls') as KubeObject & { spec: { secretName: string; dnsNames: string[] } };
    const injectFrom = configuration.metadata.annotations?.['cert-manager.io/inject-ca-from'];
    expect(injectFrom).toBe(`${certificate.metadata.namespace ?? ''}/${certificate.metadata.name}`);

    const deployment = find(overlay.objects, 'Deployment', 'mirrorhook') as unknown as k8s.V1Deployment;
    const tlsVolume = deployment.spec?.template.spec?.volumes?.find((volume) => volume.name === 'tls');
    expect(tlsVolume?.secret?.secretName).toBe(certificate.spec.secretName);
    const services = ((configuration as unknown as k8s.V1MutatingWebhookConfiguration).webhooks ?? []).map((webhook) => webhook.clientConfig.service);
    for (const service of services) {
      expect(certificate.spec.dnsNames).toContain(`${service?.name ?? ''}.${service?.namespace ?? ''}.svc`);
    }
    // Everything but the cert-manager kinds is the base, unchanged apart from that annotation.
    const withoutCertManager = overlay.objects.filter((object) => !object.apiVersion.startsWith('cert-manager.io/'));
    expect(withoutCertManager).toHaveLength(base.objects.length);
  });
});
