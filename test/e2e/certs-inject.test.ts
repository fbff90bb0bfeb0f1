import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubeConfig, kubeConfigPath, waitFor } from './harness.js';
import {
  type MirrorhookProcess,
  deleteWebhookConfiguration,
  modeLabel,
  runMirrorhook,
  startMirrorhook,
  webhookConfiguration,
} from './mirrorhook.js';
import { createCertificateAuthority } from './pki.js';

// `mirrorhook certs generate` + `certs inject` against the real API server: a webhook registered with a CA the
// API server cannot use starts working once the generated CA is injected.

const mirror = 'mirror.e2e.test/inject';
const configurationName = 'mirrorhook-e2e-inject';

describe('mirrorhook certs inject', () => {
  let dir: string;
  let hook: MirrorhookProcess | undefined;
  let namespace: string;
  const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);
  const admission = (): k8s.AdmissionregistrationV1Api => kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
  const dryRunImage = async (): Promise<string | undefined> => {
    const answer = await core().createNamespacedPod({
      namespace,
      body: { metadata: { name: 'probe' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } },
      dryRun: 'All',
    });
    return answer.spec?.containers[0]?.image;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-inject-'));
    namespace = await createNamespace({ [modeLabel]: 'enforce' });
    const generated = await runMirrorhook(['certs', 'generate', '--ip', '127.0.0.1', '--dns', 'localhost', '--out', dir]);
    if (generated.code !== 0) throw new Error(`mirrorhook certs generate failed (${generated.code}): ${generated.stderr}`);
  });

  afterAll(async () => {
    await deleteWebhookConfiguration(configurationName);
    await hook?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a webhook registered with the wrong CA work, and changes nothing the second time', async () => {
    hook = await startMirrorhook({
      config: { mirror: { registry: mirror }, swap: 'always', copy: 'none' },
      serving: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), caPem: await readFile(join(dir, 'ca.crt'), 'utf8') },
    });
    // Registered with an unrelated CA: the API server cannot verify mirrorhook, and fails open.
    const unrelated = createCertificateAuthority('not-the-webhook-ca');
    await admission().createMutatingWebhookConfiguration({ body: webhookConfiguration(configurationName, hook.url, unrelated.cert) });
    expect(await dryRunImage()).toBe('nginx:1.25');

    const injected = await runMirrorhook(['certs', 'inject', '--webhook', configurationName, '--ca-file', join(dir, 'ca.crt'), '--kubeconfig', kubeConfigPath()]);
    expect(injected.code, injected.stderr).toBe(0);
    expect(injected.stdout).toContain(`into 2 webhook(s) of MutatingWebhookConfiguration ${configurationName}`);

    const stored = await admission().readMutatingWebhookConfiguration({ name: configurationName });
    const expectedBundle = Buffer.from(await readFile(join(dir, 'ca.crt'), 'utf8')).toString('base64');
    expect(stored.webhooks?.map((webhook) => webhook.clientConfig.caBundle)).toEqual([expectedBundle, expectedBundle]);
    await waitFor('the API server to call mirrorhook with the injected CA', async () => (await dryRunImage()) === `${mirror}/docker.io/library/nginx:1.25`);

    const again = await runMirrorhook(['certs', 'inject', '--webhook', configurationName, '--ca-file', join(dir, 'ca.crt'), '--kubeconfig', kubeConfigPath()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing changed');
    const after = await admission().readMutatingWebhookConfiguration({ name: configurationName });
    expect(after.metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);
  });

  it('fails with a clear message when the webhook configuration does not exist', async () => {
    const result = await runMirrorhook(['certs', 'inject', '--webhook', 'no-such-webhook', '--ca-file', join(dir, 'ca.crt'), '--kubeconfig', kubeConfigPath()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('MH_KUBE_NOT_FOUND');
    expect(result.stderr).toContain('no-such-webhook');
  });
});
