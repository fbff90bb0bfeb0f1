import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { repoRoot } from './control-plane.js';
import { type CommandResult, auditEvents, controlPlane, createNamespace, kubeConfig, kubeConfigPath, kubectl, waitFor } from './harness.js';
import { type MirrorhookProcess, modeLabel, runMirrorhook, startMirrorhook } from './mirrorhook.js';

// The Helm chart against the real API server. What is proven here: `helm template` output is accepted by a
// server-side apply; `helm install`, `upgrade` and `uninstall` create, change and delete the release's objects,
// and uninstall leaves no MutatingWebhookConfiguration behind, because the configuration is a chart resource;
// the chart packaged, pushed to a loopback registry as an OCI artifact with `helm push`, installed from there, and
// its MutatingWebhookConfiguration, as installed, called by the API server: through the chart's Service
// (`clientConfig.service`), whose ClusterIP is a loopback address in the e2e control plane, where the built CLI
// serves with the chart's ConfigMap and a certificate for the Service name (docs/adr/0220). Its selectors and
// failurePolicy (Ignore, then Fail after an upgrade) are the rendered ones.
// The chart's pre-delete hook, with the test playing the kubelet's part for exactly its Pod (runHookPod): the
// Job, its ServiceAccount and RBAC created by `helm uninstall` before anything is deleted, the Job's command run with
// the pinned kubectl and a token of the hook's ServiceAccount (enough to delete the release's webhook configuration,
// not another), the real Job controller completing the Job, then Helm deleting the hook objects and the release:
// the audit log shows the configuration deleted by the hook's ServiceAccount before the Service. And a hook that
// cannot run fails the uninstall after activeDeadlineSeconds; `helm uninstall --no-hooks` then removes the release.
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
const batch = () => kubeConfig().makeApiClient(k8s.BatchV1Api);
const rbac = () => kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
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

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return false;
    throw error;
  }
}

async function webhookExists(name: string): Promise<boolean> {
  return exists(() => admission().readMutatingWebhookConfiguration({ name }));
}

/** Whether each pre-delete hook object of release NAME (`NAME-mirrorhook-pre-delete`) exists, by kind. */
async function hookObjects(namespace: string, release: string): Promise<Record<string, boolean>> {
  const name = `${release}-mirrorhook-pre-delete`;
  return {
    ServiceAccount: await exists(() => core().readNamespacedServiceAccount({ name, namespace })),
    ClusterRole: await exists(() => rbac().readClusterRole({ name })),
    ClusterRoleBinding: await exists(() => rbac().readClusterRoleBinding({ name })),
    Job: await exists(() => batch().readNamespacedJob({ name, namespace })),
  };
}

/** The pinned kubectl with KUBECONFIG (and nothing of the super-user's), as the hook Pod's container would run it. */
function kubectlWith(env: Record<string, string>, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolveRun, reject) => {
    execFile(join(controlPlane().binDir, 'kubectl'), args, { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      if (error === null) resolveRun({ code: 0, stdout, stderr });
      else if (typeof error.code === 'number') resolveRun({ code: error.code, stdout, stderr });
      else reject(new Error(`kubectl could not run: ${error.message}`, { cause: error }));
    });
  });
}

interface HookPod {
  readonly pod: k8s.V1Pod;
  /** The container's command and args as the Pod spec has them. */
  readonly argv: string[];
  /** Environment for the pinned kubectl: the container's env (HOME on a fresh directory standing for its emptyDir), KUBECONFIG with the token. */
  readonly env: Record<string, string>;
  readonly startedAt: Date;
}

/**
 * The kubelet's part for the chart's pre-delete hook, and only that (the e2e control plane has no kubelet and no
 * scheduler): waits for the Pod the real Job controller creates for Job `jobName`, and obtains a token for the Pod's
 * ServiceAccount with the TokenRequest API, bound to that Pod (as the kubelet does for a Pod's projected token). The
 * container's image is registry.k8s.io/kubectl at a version; its command runs as the pinned kubectl of that same
 * version, with a kubeconfig holding only that token (the Pod would use in-cluster config with the same token).
 */
async function takeHookPod(namespace: string, jobName: string, home: string): Promise<HookPod> {
  const pod = await waitFor(`the Job controller to create the Pod of hook Job ${namespace}/${jobName}`, async () => {
    const pods = await core().listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${jobName}` });
    return pods.items[0];
  }, { timeoutMs: 60_000, intervalMs: 200 });
  const spec = pod.spec!;
  const [container] = spec.containers;
  if (container === undefined || spec.containers.length !== 1) throw new Error('the hook Pod should have one container');
  const version = JSON.parse((await kubectlWith({}, ['version', '--client', '--output=json'])).stdout) as { clientVersion: { gitVersion: string } };
  expect(container.image).toBe(`registry.k8s.io/kubectl:${version.clientVersion.gitVersion}`);
  // The image's kubectl is /bin/kubectl (its Dockerfile's ENTRYPOINT); here, the pinned one.
  expect(container.command).toEqual(['/bin/kubectl']);

  const token = await core().createNamespacedServiceAccountToken({
    name: spec.serviceAccountName ?? 'default',
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! } } },
  });
  const info = controlPlane();
  const kubeconfig = join(home, '..', `${pod.metadata!.name!}.kubeconfig`);
  await writeFile(kubeconfig, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: info.apiServerUrl, 'certificate-authority-data': Buffer.from(await readFile(info.caCertPath)).toString('base64') } }],
    users: [{ name: 'hook', user: { token: token.status!.token } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'hook' } }],
    'current-context': 'e2e',
  }), { mode: 0o600 });
  const mounts = Object.fromEntries((container.volumeMounts ?? []).map((mount) => [mount.mountPath, mount.name]));
  const env: Record<string, string> = { KUBECONFIG: kubeconfig };
  for (const variable of container.env ?? []) {
    if (variable.value === undefined) throw new Error(`hook env ${variable.name}: only literal values are played here`);
    // A path on one of the Pod's emptyDir volumes: a directory of ours.
    const onVolume = spec.volumes?.find((volume) => volume.name === mounts[variable.value!] && volume.emptyDir !== undefined);
    env[variable.name] = onVolume === undefined ? variable.value : home;
  }
  return { pod, argv: [...(container.command ?? []), ...(container.args ?? [])], env, startedAt: new Date() };
}

/** Reports the container's exit in the Pod's status, as the kubelet would; the Job controller takes it from there. */
async function reportHookPodExit(hook: HookPod, exitCode: number): Promise<void> {
  const { name, namespace } = hook.pod.metadata as { name: string; namespace: string };
  const pod = await core().readNamespacedPod({ name, namespace });
  const container = pod.spec!.containers[0]!;
  pod.status = {
    ...pod.status,
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    startTime: hook.startedAt,
    containerStatuses: [{
      name: container.name,
      image: container.image!,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: hook.startedAt, finishedAt: new Date() } },
    }],
  };
  await core().replaceNamespacedPodStatus({ name, namespace, body: pod });
}

describe('helm chart on the real API server', () => {
  it('helm template output is accepted by a server-side apply', async () => {
    const namespace = `helm-tpl-${Date.now().toString(36)}`;
    // --no-hooks, as docs/deploy-helm.md says: applied as a plain object, the pre-delete Job would run at once.
    const rendered = await helm('template', 'tpl', chart, '--namespace', namespace, '--set', 'namespace.create=true', '--no-hooks');
    expect(rendered).not.toContain('helm.sh/hook');
    const applied = await kubectl(['apply', '--server-side', '--field-manager=e2e-helm', '-f', '-'], { input: rendered });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const deployment = await apps().readNamespacedDeployment({ name: 'tpl-mirrorhook', namespace });
    expect(deployment.spec?.replicas).toBe(2);
    expect(await webhookExists('tpl-mirrorhook')).toBe(true);
    const deleted = await kubectl(['delete', '--wait=false', '-f', '-'], { input: rendered });
    expect(deleted.code).toBe(0);
    // kubectl deletes in the order of its input, the webhook configuration (last, as Helm and kustomize emit it)
    // after the Service: why the chart has a pre-delete hook and docs/deploy-helm.md says to delete it first with -k.
    const order = await waitFor('the audit events of kubectl delete', async () => {
      const found = await auditEvents((entry) => entry.stage === 'ResponseComplete' && entry.verb === 'delete' && entry.objectRef?.name === 'tpl-mirrorhook' &&
        (entry.objectRef.resource === 'mutatingwebhookconfigurations' || (entry.objectRef.resource === 'services' && entry.objectRef.namespace === namespace)));
      return found.length >= 2 ? found : undefined;
    });
    expect(order.sort((a, b) => (a.requestReceivedTimestamp ?? '').localeCompare(b.requestReceivedTimestamp ?? '')).map((entry) => entry.objectRef?.resource))
      .toEqual(['services', 'mutatingwebhookconfigurations']);
  });

  it('helm install, upgrade and uninstall; a pre-delete hook that cannot run fails the uninstall in time, --no-hooks then removes it all', async () => {
    const namespace = `helm-rel-${Date.now().toString(36)}`;
    await helm('install', 'rel', chart, '--namespace', namespace, '--create-namespace');
    // Hooks exist only during an uninstall.
    expect(await hookObjects(namespace, 'rel')).toEqual({ ServiceAccount: false, ClusterRole: false, ClusterRoleBinding: false, Job: false });
    expect(await webhookExists('rel-mirrorhook')).toBe(true);
    const webhook = await admission().readMutatingWebhookConfiguration({ name: 'rel-mirrorhook' });
    expect(webhook.webhooks?.map((entry) => entry.clientConfig.service?.namespace)).toEqual([namespace, namespace]);

    // The hooks an uninstall runs are the last revision's: a 10 s deadline instead of the default 120 s.
    await helm(
      'upgrade', 'rel', chart, '--namespace', namespace, '--set', 'replicaCount=3', '--set', 'webhook.timeoutSeconds=5',
      '--set', 'preDeleteHook.activeDeadlineSeconds=10',
    );
    expect((await apps().readNamespacedDeployment({ name: 'rel-mirrorhook', namespace })).spec?.replicas).toBe(3);
    const upgraded = await admission().readMutatingWebhookConfiguration({ name: 'rel-mirrorhook' });
    expect(upgraded.webhooks?.map((entry) => entry.timeoutSeconds)).toEqual([5, 5]);
    expect(await helm('history', 'rel', '--namespace', namespace, '--output', 'json')).toContain('"revision":2');

    // Nothing runs the hook's Pod here (no kubelet): the Job controller fails the Job after activeDeadlineSeconds and
    // the uninstall fails with it, having deleted nothing of the release.
    const started = Date.now();
    const failed = await helm('uninstall', 'rel', '--namespace', namespace, '--wait').then(() => 'uninstalled', (error: Error) => error.message);
    const seconds = (Date.now() - started) / 1000;
    expect(failed).toMatch(/job rel-mirrorhook-pre-delete failed: DeadlineExceeded/);
    expect(seconds, 'seconds the failing uninstall took').toBeGreaterThanOrEqual(10);
    expect(seconds, 'seconds the failing uninstall took').toBeLessThan(60);
    expect(await webhookExists('rel-mirrorhook')).toBe(true);
    expect((await apps().readNamespacedDeployment({ name: 'rel-mirrorhook', namespace })).spec?.replicas).toBe(3);
    // The failed Job stays for its logs (ttlSecondsAfterFinished removes it later); the hook's RBAC is gone.
    expect(await hookObjects(namespace, 'rel')).toEqual({ ServiceAccount: false, ClusterRole: false, ClusterRoleBinding: false, Job: true });
    const job = await batch().readNamespacedJob({ name: 'rel-mirrorhook-pre-delete', namespace });
    expect(job.spec?.ttlSecondsAfterFinished).toBe(3600);
    expect(job.status?.conditions?.find((condition) => condition.type === 'Failed')).toMatchObject({ status: 'True', reason: 'DeadlineExceeded' });

    await helm('uninstall', 'rel', '--namespace', namespace, '--wait', '--no-hooks');
    expect(await webhookExists('rel-mirrorhook')).toBe(false);
    await expect(apps().readNamespacedDeployment({ name: 'rel-mirrorhook', namespace })).rejects.toThrow();
    await batch().deleteNamespacedJob({ name: 'rel-mirrorhook-pre-delete', namespace, propagationPolicy: 'Background' });
  }, 180_000);


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

    // helm uninstall runs the pre-delete hook first: its ServiceAccount, ClusterRole and binding, then the Job,
    // whose Pod the test runs as a kubelet would (takeHookPod); Helm waits for the Job to complete.
    const uninstalling = helm('uninstall', 'oci', '--namespace', namespace, '--wait').then(() => undefined, (error: Error) => error);
    const home = await mkdtemp(join(helmHome, 'hook-home-'));
    const hookPod = await takeHookPod(namespace, 'oci-mirrorhook-pre-delete', home);
    expect(hookPod.pod.spec?.serviceAccountName).toBe('oci-mirrorhook-pre-delete');
    expect(hookPod.argv).toEqual(['/bin/kubectl', 'delete', 'mutatingwebhookconfiguration', name, '--ignore-not-found', '--wait=true']);
    expect(hookPod.env.HOME).toBe(home);
    const deleted = await kubectlWith(hookPod.env, hookPod.argv.slice(1));
    expect(deleted.stderr).toBe('');
    expect(deleted).toMatchObject({ code: 0, stdout: `mutatingwebhookconfiguration.admissionregistration.k8s.io "${name}" deleted\n` });
    expect(await webhookExists(name)).toBe(false);
    // Deleted while the release is whole: the Service and Deployment wait for the hook Job.
    expect(await exists(() => core().readNamespacedService({ name, namespace }))).toBe(true);
    expect(await exists(() => apps().readNamespacedDeployment({ name, namespace }))).toBe(true);

    // The same token deletes no other webhook configuration, reads none, lists none, and deletes no Service.
    const other = `other-${namespace}`;
    await admission().createMutatingWebhookConfiguration({ body: { metadata: { name: other } } });
    for (const args of [
      ['delete', 'mutatingwebhookconfiguration', other, '--ignore-not-found', '--wait=true'],
      ['get', 'mutatingwebhookconfiguration', other],
      ['get', 'mutatingwebhookconfigurations'],
      ['delete', 'service', name, '--namespace', namespace],
    ]) {
      const refused = await kubectlWith(hookPod.env, args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr, args.join(' ')).toMatch(/Error from server \(Forbidden\): .*system:serviceaccount:helm-oci-[a-z0-9]+:oci-mirrorhook-pre-delete/);
    }
    expect(await webhookExists(other)).toBe(true);
    await admission().deleteMutatingWebhookConfiguration({ name: other });

    await reportHookPodExit(hookPod, deleted.code);
    const failure = await uninstalling;
    if (failure !== undefined) throw failure;
    expect(await webhookExists(name)).toBe(false);
    await expect(core().readNamespacedService({ name, namespace })).rejects.toThrow();
    // hook-succeeded: Helm deleted every hook object once the Job had completed.
    expect(await hookObjects(namespace, 'oci')).toEqual({ ServiceAccount: false, ClusterRole: false, ClusterRoleBinding: false, Job: false });
    // The audit log: the configuration was deleted by the hook's ServiceAccount, before Helm deleted the Service
    // (Helm's own delete of the configuration afterwards finds nothing: 404; the refused deletes above are 403).
    const deletions = await waitFor('the audit events of the uninstall', async () => {
      const found = await auditEvents((entry) => entry.stage === 'ResponseComplete' && entry.verb === 'delete' && entry.objectRef?.name === name &&
        entry.responseStatus?.code === 200 &&
        (entry.objectRef.resource === 'mutatingwebhookconfigurations' || (entry.objectRef.resource === 'services' && entry.objectRef.namespace === namespace)));
      return found.length >= 2 ? found : undefined;
    });
    expect(deletions).toHaveLength(2);
    const [first, second] = deletions.sort((a, b) => (a.requestReceivedTimestamp ?? '').localeCompare(b.requestReceivedTimestamp ?? ''));
    expect([first?.objectRef?.resource, first?.user?.username, first?.responseStatus?.code]).toEqual([
      'mutatingwebhookconfigurations', `system:serviceaccount:${namespace}:oci-mirrorhook-pre-delete`, 200,
    ]);
    expect([second?.objectRef?.resource, second?.user?.username, second?.responseStatus?.code]).toEqual(['services', 'e2e-admin', 200]);
    expect((first?.stageTimestamp ?? '') < (second?.requestReceivedTimestamp ?? '')).toBe(true);
    // --wait=true read the configuration back and found it gone: the `get` the ClusterRole grants (without it
    // kubectl skips the wait on a 403 and still exits 0).
    const readBack = await auditEvents((entry) => entry.stage === 'ResponseComplete' && entry.verb === 'get' &&
      entry.objectRef?.resource === 'mutatingwebhookconfigurations' && entry.objectRef.name === name && entry.user?.username === first?.user?.username);
    expect(readBack.map((entry) => entry.responseStatus?.code)).toEqual([404]);
    // Nothing is left to call: a Pod in the enforce namespace is admitted unchanged, no webhook tried.
    await waitFor('the API server to drop the uninstalled webhook', async () => {
      await core().createNamespacedPod({ namespace: enforce, body: pod('after', 'nginx:1.27') });
      return true;
    }, { timeoutMs: 30_000, intervalMs: 300 });
    expect(imageOf(await core().readNamespacedPod({ namespace: enforce, name: 'after' }))).toBe('nginx:1.27');
    expect(await webhookCalls(enforce, 'after')).toEqual({ calls: [], failedOpen: [] });
  }, 240_000);
});
