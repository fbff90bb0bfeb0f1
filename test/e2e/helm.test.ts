import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { repoRoot } from './control-plane.js';
import { kubeConfig, kubeConfigPath, kubectl } from './harness.js';

// The Helm chart against the real API server. What is proven here: `helm template` output is accepted by a
// server-side apply; `helm install`, `upgrade` and `uninstall` create, change and delete the release's objects,
// and uninstall leaves no MutatingWebhookConfiguration behind, because the configuration is a chart resource;
// the chart packaged, pushed to a loopback registry as an OCI artifact with `helm push`, and installed from there.
// Not proven here: the Pods running (the e2e control plane has no kubelet), so a webhook served from the
// installed Deployment is not called by the API server in this file (test/e2e/webhook.test.ts covers the calls).

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
beforeAll(async () => {
  helmHome = await mkdtemp(join(tmpdir(), 'mirrorhook-helm-'));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  if (helmHome !== undefined) await rm(helmHome, { recursive: true, force: true });
});

const admission = () => kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);

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

  it('packages the chart, pushes it to a loopback OCI registry and installs it from there', async () => {
    const packageDir = join(helmHome, 'package');
    await helm('package', chart, '--destination', packageDir);
    const [archive] = await readdir(packageDir);
    expect(archive).toBe('mirrorhook-0.1.0.tgz');
    const pushed = await run(helmBinary(), ['push', join(packageDir, archive!), `oci://${registry.host}/charts`, '--plain-http'], {
      env: { ...process.env, HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_CACHE_HOME: join(helmHome, 'cache') },
    });
    expect(`${pushed.stdout}${pushed.stderr}`).toMatch(/Digest: sha256:[0-9a-f]{64}/);

    const namespace = `helm-oci-${Date.now().toString(36)}`;
    await helm('install', 'oci', `oci://${registry.host}/charts/mirrorhook`, '--version', '0.1.0', '--plain-http', '--namespace', namespace, '--create-namespace');
    const releases = JSON.parse(await helm('list', '--namespace', namespace, '--output', 'json')) as unknown[];
    expect(releases).toEqual([expect.objectContaining({ name: 'oci', status: 'deployed', chart: 'mirrorhook-0.1.0', app_version: '0.1.0' })]);
    expect(await webhookExists('oci-mirrorhook')).toBe(true);
    await helm('uninstall', 'oci', '--namespace', namespace, '--wait');
    expect(await webhookExists('oci-mirrorhook')).toBe(false);
  });
});
