import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { freePorts, repoRoot } from './control-plane.js';
import { asUser, canI, controlPlane, createNamespace, kubeConfig, kubectl, waitFor } from './harness.js';
import { mirrorhookCli } from './mirrorhook.js';

// deploy/ as users install it: the kustomize base rendered by the pinned kubectl, server-side applied to the real
// API server, its Deployment turned into Pods by the controller manager, and its RBAC checked against what the
// webhook needs, no more; the cert-manager overlay rendered and checked for consistency (applying it needs
// cert-manager's CRDs); the self-managed-certs overlay applied over the base and its RBAC proven sufficient by
// running `serve --manage-certs` with the ServiceAccount's own token.

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
  let selfManaged: { text: string; objects: KubeObject[] } | undefined;

  beforeAll(async () => {
    base = await render('deploy/base');
  });

  afterAll(async () => {
    // The overlay is the base plus its own objects: deleting what was applied last removes everything.
    const applied = selfManaged ?? base;
    if (applied !== undefined) await kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], { input: applied.text });
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

  it('upgrades to the self-managed-certs overlay, whose ServiceAccount runs serve --manage-certs with its own token', async () => {
    selfManaged = await render('deploy/overlays/self-managed-certs');
    const applied = await kubectl(['apply', '--server-side', '--field-manager=mirrorhook-e2e', '-f', '-'], { input: selfManaged.text });
    expect(applied.code, applied.stderr).toBe(0);
    // Server-side apply by the same manager drops what the overlay removed: no certificate volume any more.
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ namespace: 'mirrorhook', name: 'mirrorhook' });
    expect(deployment.spec?.template.spec?.volumes?.map((volume) => volume.name)).not.toContain('tls');
    expect(deployment.spec?.template.spec?.containers[0]?.args).toContain('--manage-certs');

    // Exactly the base grants plus the Secret and the caBundle of its own webhook configuration.
    const baselineNamespace = await createNamespace();
    const nobody = `system:serviceaccount:${baselineNamespace}:default`;
    const baseline = await permissions(nobody, 'mirrorhook');
    const granted = [...(await permissions(serviceAccount, 'mirrorhook'))].filter((permission) => !baseline.has(permission));
    expect(granted.sort()).toEqual(
      [
        '/secrets:list', '/secrets:watch', '/serviceaccounts:list', '/serviceaccounts:watch', '/events:create',
        'coordination.k8s.io/leases:get', 'coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:update', 'coordination.k8s.io/leases:delete',
        '/secrets:create', '/secrets:get (mirrorhook-certs)', '/secrets:update (mirrorhook-certs)',
        'admissionregistration.k8s.io/mutatingwebhookconfigurations:get (mirrorhook)',
        'admissionregistration.k8s.io/mutatingwebhookconfigurations:update (mirrorhook)',
      ].sort(),
    );

    // Sufficient, too: the webhook runs as that ServiceAccount (a token from the TokenRequest API, as a Pod gets).
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const token = await core.createNamespacedServiceAccountToken({
      namespace: 'mirrorhook',
      name: 'mirrorhook',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-deploy-'));
    const kubeconfig = join(dir, 'serviceaccount.kubeconfig');
    await writeFile(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: { server: controlPlane().apiServerUrl, 'certificate-authority': controlPlane().caCertPath } }],
        users: [{ name: 'mirrorhook', user: { token: token.status?.token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'mirrorhook' } }],
        'current-context': 'e2e',
      }),
      { mode: 0o600 },
    );
    const [port] = await freePorts(1);
    const serve = spawn(
      process.execPath,
      [
        mirrorhookCli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--shutdown-delay', '0', '--manage-certs',
        '--namespace', 'mirrorhook', '--cert-secret', 'mirrorhook-certs', '--webhook-config', 'mirrorhook', '--ip', '127.0.0.1',
        '--kubeconfig', kubeconfig,
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    serve.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    serve.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise((resolveExit) => serve.once('exit', resolveExit));
    try {
      const secret = await waitFor('serve --manage-certs to create its Secret', async () => {
        if (serve.exitCode !== null) throw new Error(`serve exited with ${serve.exitCode}:\n${output.slice(-2000)}`);
        return await core.readNamespacedSecret({ namespace: 'mirrorhook', name: 'mirrorhook-certs' }).catch(() => undefined);
      });
      const bundle = secret.data?.['ca.crt'];
      expect(bundle).toBeDefined();
      const admission = kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
      await waitFor('the caBundle of MutatingWebhookConfiguration mirrorhook to carry the managed CA', async () => {
        const configuration = await admission.readMutatingWebhookConfiguration({ name: 'mirrorhook' });
        return (configuration.webhooks ?? []).every((webhook) => webhook.clientConfig.caBundle === bundle);
      });
      const caPem = Buffer.from(bundle ?? '', 'base64').toString('utf8');
      await waitFor(`serve to answer /readyz with the managed certificate`, () => httpsStatus(`https://127.0.0.1:${port}/readyz`, caPem).then((status) => status === 200));
      expect(output).not.toMatch(/forbidden/i);
    } finally {
      serve.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function httpsStatus(url: string, caPem: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = httpsRequest(url, { ca: caPem, timeout: 2000 }, (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
