import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { repoRoot } from './control-plane.js';
import { auditEvents, createNamespace, kubeConfig, kubeConfigPath, kubectl, waitFor } from './harness.js';
import { type MirrorhookProcess, modeLabel, runMirrorhook, startMirrorhook } from './mirrorhook.js';

// The Helm chart against the real API server. What is proven here: `helm template` output is accepted by a
// server-side apply; `helm install`, `upgrade` and `uninstall` create, change and delete the release's objects,
// and uninstall leaves no MutatingWebhookConfiguration behind, because the configuration is a chart resource;
// the chart packaged, pushed to a loopback registry as an OCI artifact with `helm push`, installed from there, and
// its MutatingWebhookConfiguration, as installed, called by the API server: through the chart's Service
// (`clientConfig.service`), whose ClusterIP is a loopback address in the e2e control plane, where the built CLI
// serves with the chart's ConfigMap and a certificate for the Service name (docs/adr/0220). Its selectors and
// failurePolicy (Ignore, then Fail after an upgrade) are the rendered ones.
// Not proven here: the Deployment's Pods running (the e2e control plane has no kubelet and no kube-proxy).

const run = promisify(execFile);
const chart = join(repoRoot, 'deploy/helm/mirrorhook');

function helmBinary(): string {
  const path = join(repoRoot, '.cache/bin/helm');
  if (!existsSync(path)) throw new Error(`${path} is missing: run test/setup/install-tools.sh (it builds helm)`);
  return path;
}

let helmHome: string;
async function helm(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
    KUBECONFIG: kubeConfigPath(),
  };
  try {
    return (await run(helmBinary(), args, { env, maxBuffer: 16 << 20 })).stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${failure.stderr ?? failure.message}`);
  }
}

let registry: TestRegistry;
let hook: MirrorhookProcess | undefined;
beforeAll(async () => {
  helmHome = await mkdtemp(join(tmpdir(), 'mirrorhook-helm-'));
  registry = await startRegistry();
});
afterAll(async () => {
  await hook?.stop();
  await registry?.stop();
  if (helmHome !== undefined) await rm(helmHome, { recursive: true, force: true });
});

const admission = () => kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);
const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const mirror = 'mirror.e2e.test/helm';

function pod(name: string, image: string, labels: Record<string, string> = {}): k8s.V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'app', image }] } };
}

function imageOf(stored: k8s.V1Pod): string | undefined {
  return stored.spec?.containers[0]?.image;
}

interface WebhookCall {
  readonly key: string;
  readonly configuration: string;
  readonly webhook: string;
  readonly mutated: boolean;
}

/**
 * Which mutating webhooks the API server called for a Pod's creation, from its audit event: each call leaves
 * `mutation.webhook.admission.k8s.io/round_R_index_I` = {configuration, webhook, mutated}, each call that failed
 * open `failed-open.mutation.webhook.admission.k8s.io/round_R_index_I` = the webhook's name.
 */
async function webhookCalls(namespace: string, name: string): Promise<{ calls: WebhookCall[]; failedOpen: [string, string][] }> {
  const [event] = await waitFor(`the audit event of Pod ${namespace}/${name}`, async () => {
    const found = await auditEvents(
      (entry) => entry.stage === 'ResponseComplete' && entry.verb === 'create' && entry.objectRef?.resource === 'pods' &&
        entry.objectRef.subresource === undefined && entry.objectRef.namespace === namespace && entry.objectRef.name === name,
    );
    return found.length > 0 ? found : undefined;
  });
  const annotations = Object.entries(event?.annotations ?? {});
  const prefix = 'mutation.webhook.admission.k8s.io/';
  return {
    calls: annotations
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => ({ key, ...(JSON.parse(value) as Omit<WebhookCall, 'key'>) })),
    failedOpen: annotations.filter(([key]) => key.startsWith(`failed-open.${prefix}`)),
  };
}

async function webhookExists(name: string): Promise<boolean> {
  try {
    await admission().readMutatingWebhookConfiguration({ name });
    return true;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return false;
    throw error;
  }
}

describe('helm chart on the real API server', () => {
  it('helm template output is accepted by a server-side apply', async () => {
    const namespace = `helm-tpl-${Date.now().toString(36)}`;
    const rendered = await helm('template', 'tpl', chart, '--namespace', namespace, '--set', 'namespace.create=true');
    const applied = await kubectl(['apply', '--server-side', '--field-manager=e2e-helm', '-f', '-'], { input: rendered });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const deployment = await apps().readNamespacedDeployment({ name: 'tpl-mirrorhook', namespace });
    expect(deployment.spec?.replicas).toBe(2);
    expect(await webhookExists('tpl-mirrorhook')).toBe(true);
    const deleted = await kubectl(['delete', '--wait=false', '-f', '-'], { input: rendered });
    expect(deleted.code).toBe(0);
  });

  it('helm install, upgrade and uninstall; uninstall leaves no MutatingWebhookConfiguration', async () => {
    const namespace = `helm-rel-${Date.now().toString(36)}`;
    await helm('install', 'rel', chart, '--namespace', namespace, '--create-namespace');
    expect(await webhookExists('rel-mirrorhook')).toBe(true);
    const webhook = await admission().readMutatingWebhookConfiguration({ name: 'rel-mirrorhook' });
    expect(webhook.webhooks?.map((entry) => entry.clientConfig.service?.namespace)).toEqual([namespace, namespace]);

    await helm('upgrade', 'rel', chart, '--namespace', namespace, '--set', 'replicaCount=3', '--set', 'webhook.timeoutSeconds=5');
    expect((await apps().readNamespacedDeployment({ name: 'rel-mirrorhook', namespace })).spec?.replicas).toBe(3);
    const upgraded = await admission().readMutatingWebhookConfiguration({ name: 'rel-mirrorhook' });
    expect(upgraded.webhooks?.map((entry) => entry.timeoutSeconds)).toEqual([5, 5]);
    expect(await helm('history', 'rel', '--namespace', namespace, '--output', 'json')).toContain('"revision":2');

    await helm('uninstall', 'rel', '--namespace', namespace, '--wait');
    expect(await webhookExists('rel-mirrorhook')).toBe(false);
    await expect(apps().readNamespacedDeployment({ name: 'rel-mirrorhook', namespace })).rejects.toThrow();
  });


  it('installs the chart from a loopback OCI registry; the API server calls the webhook it configures; uninstall removes it', async () => {
    const packageDir = join(helmHome, 'package');
    await helm('package', chart, '--destination', packageDir);
    const [archive] = await readdir(packageDir);
    expect(archive).toBe('mirrorhook-0.1.0.tgz');
    const pushed = await run(helmBinary(), ['push', join(packageDir, archive!), `oci://${registry.host}/charts`, '--plain-http'], {
      env: { ...process.env, HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_CACHE_HOME: join(helmHome, 'cache') },
    });
    expect(`${pushed.stdout}${pushed.stderr}`).toMatch(/Digest: sha256:[0-9a-f]{64}/);

    const namespace = `helm-oci-${Date.now().toString(36)}`;
    const name = 'oci-mirrorhook';
    await helm(
      'install', 'oci', `oci://${registry.host}/charts/mirrorhook`, '--version', '0.1.0', '--plain-http',
      '--namespace', namespace, '--create-namespace',
      '--set', `config.mirror.registry=${mirror}`, '--set', 'config.swap=always', '--set', 'config.copy=none',
    );
    const releases = JSON.parse(await helm('list', '--namespace', namespace, '--output', 'json')) as unknown[];
    expect(releases).toEqual([expect.objectContaining({ name: 'oci', status: 'deployed', chart: 'mirrorhook-0.1.0', app_version: '0.1.0' })]);
    const installed = await admission().readMutatingWebhookConfiguration({ name });
    expect(installed.webhooks?.map((entry) => [entry.name, entry.clientConfig.service, entry.failurePolicy])).toEqual([
      ['enforce.mirrorhook.io', { name, namespace, path: '/mutate', port: 443 }, 'Ignore'],
      ['audit.mirrorhook.io', { name, namespace, path: '/audit', port: 443 }, 'Ignore'],
    ]);

    // certificates.mode=provided, as docs/deploy.md does it: a certificate for the Service, its TLS Secret, the CA
    // injected into the chart's webhook configuration (the only change made to it).
    const certs = join(helmHome, 'certs');
    const generated = await runMirrorhook(['certs', 'generate', '--service', name, '--namespace', namespace, '--out', certs]);
    expect(generated.code, generated.stderr).toBe(0);
    const secret = await kubectl(['create', 'secret', 'tls', `${name}-tls`, '--namespace', namespace, `--cert=${join(certs, 'tls.crt')}`, `--key=${join(certs, 'tls.key')}`]);
    expect(secret.code, secret.stderr).toBe(0);
    const injected = await runMirrorhook(['certs', 'inject', '--webhook', name, '--ca-file', join(certs, 'ca.crt'), '--kubeconfig', kubeConfigPath()]);
    expect(injected.code, injected.stderr).toBe(0);

    // What a Pod of the Deployment would be: the built CLI with the chart's ConfigMap and the Secret's certificate,
    // where the API server sends the chart's webhook calls: the Service's ClusterIP and port (a loopback address in
    // the e2e control plane, docs/adr/0220-service-webhooks-on-loopback-cluster-ips.md).
    const service = await core().readNamespacedService({ name, namespace });
    const clusterIp = service.spec?.clusterIP ?? '';
    const servicePort = service.spec?.ports?.[0]?.port ?? 0;
    expect(clusterIp).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(servicePort).toBe(443);
    const configMap = await core().readNamespacedConfigMap({ name: `${name}-config`, namespace });
    const config = parse(configMap.data?.['mirrorhook.yaml'] ?? '') as unknown;
    expect(config).toMatchObject({ mirror: { registry: mirror }, swap: 'always', copy: 'none' });
    hook = await startMirrorhook({
      config,
      host: clusterIp,
      port: servicePort,
      serverName: `${name}.${namespace}.svc`,
      serving: { certFile: join(certs, 'tls.crt'), keyFile: join(certs, 'tls.key'), caPem: await readFile(join(certs, 'ca.crt'), 'utf8') },
    }).catch((error: unknown) => {
      throw new Error(`serving on ${clusterIp}:${servicePort} (port 443 needs root, as CI runs): ${error instanceof Error ? error.message : String(error)}`);
    });

    const [enforce, plain] = await Promise.all([createNamespace({ [modeLabel]: 'enforce' }, 'helm-enforce-'), createNamespace({}, 'helm-plain-')]);
    await waitFor('the API server to call the chart webhook', async () => {
      const answer = await core().createNamespacedPod({ namespace: enforce, body: pod('probe', 'nginx:1.27'), dryRun: 'All' });
      return imageOf(answer) === `${mirror}/docker.io/library/nginx:1.27`;
    }, { timeoutMs: 30_000, intervalMs: 300 });

    await core().createNamespacedPod({ namespace: enforce, body: pod('web', 'nginx:1.27') });
    expect(imageOf(await core().readNamespacedPod({ namespace: enforce, name: 'web' }))).toBe(`${mirror}/docker.io/library/nginx:1.27`);
    const called = await webhookCalls(enforce, 'web');
    expect(called.calls).toContainEqual({ configuration: name, webhook: 'enforce.mirrorhook.io', mutated: true, key: expect.any(String) });
    expect(called.failedOpen).toEqual([]);
    const enforceKey = called.calls.find((call) => call.configuration === name)?.key ?? '';

    // The chart's selectors as rendered: a Pod labelled mirrorhook.io/skip=true, a namespace without the mode label
    // and the release namespace (even labelled enforce) are not sent to the webhook at all.
    await core().patchNamespace(
      { name: namespace, body: [{ op: 'add', path: `/metadata/labels/${modeLabel.replace('/', '~1')}`, value: 'enforce' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    await core().createNamespacedPod({ namespace: enforce, body: pod('skipped', 'nginx:1.27', { 'mirrorhook.io/skip': 'true' }) });
    await core().createNamespacedPod({ namespace: plain, body: pod('plain', 'nginx:1.27') });
    await core().createNamespacedPod({ namespace, body: pod('own', 'nginx:1.27') });
    for (const [podNamespace, podName] of [[enforce, 'skipped'], [plain, 'plain'], [namespace, 'own']] as const) {
      expect(imageOf(await core().readNamespacedPod({ namespace: podNamespace, name: podName }))).toBe('nginx:1.27');
      expect((await webhookCalls(podNamespace, podName)).calls.filter((call) => call.configuration === name)).toEqual([]);
    }

    // failurePolicy as rendered (Ignore): with nothing serving the Service, the API server calls, fails and admits
    // the Pod unchanged.
    await hook.stop();
    await core().createNamespacedPod({ namespace: enforce, body: pod('while-down', 'nginx:1.27') });
    expect(imageOf(await core().readNamespacedPod({ namespace: enforce, name: 'while-down' }))).toBe('nginx:1.27');
    expect((await webhookCalls(enforce, 'while-down')).failedOpen).toContainEqual([`failed-open.${enforceKey}`, 'enforce.mirrorhook.io']);

    // failurePolicy=Fail rendered by an upgrade: the same outage now refuses the Pod. The upgrade keeps the
    // injected caBundle (no chart field owns it).
    await helm('upgrade', 'oci', `oci://${registry.host}/charts/mirrorhook`, '--version', '0.1.0', '--plain-http', '--namespace', namespace, '--reuse-values', '--set', 'webhook.failurePolicy=Fail');
    const upgraded = await admission().readMutatingWebhookConfiguration({ name });
    expect(upgraded.webhooks?.map((entry) => [entry.failurePolicy, entry.clientConfig.caBundle])).toEqual([
      ['Fail', installed.webhooks?.[0]?.clientConfig.caBundle ?? expect.any(String)],
      ['Fail', installed.webhooks?.[1]?.clientConfig.caBundle ?? expect.any(String)],
    ]);
    const refused = await waitFor('the API server to refuse Pods with failurePolicy Fail', async () => {
      try {
        await core().createNamespacedPod({ namespace: enforce, body: pod('refused', 'nginx:1.27'), dryRun: 'All' });
        return false;
      } catch (error) {
        return error instanceof k8s.ApiException ? String(error.body) : false;
      }
    }, { timeoutMs: 30_000, intervalMs: 300 });
    expect(refused).toMatch(/failed calling webhook \\?"enforce\.mirrorhook\.io\\?"/);

    await helm('uninstall', 'oci', '--namespace', namespace, '--wait');
    expect(await webhookExists(name)).toBe(false);
    // Nothing is left to call: a Pod in the enforce namespace is admitted unchanged, no webhook tried.
    await waitFor('the API server to drop the uninstalled webhook', async () => {
      await core().createNamespacedPod({ namespace: enforce, body: pod('after', 'nginx:1.27') });
      return true;
    }, { timeoutMs: 30_000, intervalMs: 300 });
    expect(imageOf(await core().readNamespacedPod({ namespace: enforce, name: 'after' }))).toBe('nginx:1.27');
    expect(await webhookCalls(enforce, 'after')).toEqual({ calls: [], failedOpen: [] });
  });
});
