import type * as k8s from '@kubernetes/client-node';
import { MirrorhookError } from '../errors.js';
import { kubeError, statusOf } from '../kube/client.js';

/**
 * Puts a CA bundle into every webhook of a MutatingWebhookConfiguration. Read, change, replace with the read
 * resourceVersion, and try again on a conflict: another writer (a second replica, cert-manager) may be racing.
 */
export async function injectCaBundle(
  api: k8s.AdmissionregistrationV1Api,
  webhookConfigurationName: string,
  caPem: string,
  attempts = 3,
): Promise<{ webhooks: number; changed: boolean }> {
  const caBundle = Buffer.from(caPem).toString('base64');
  for (let attempt = 1; ; attempt += 1) {
    let current: k8s.V1MutatingWebhookConfiguration;
    try {
      current = await api.readMutatingWebhookConfiguration({ name: webhookConfigurationName });
    } catch (error) {
      throw kubeError(error, `MutatingWebhookConfiguration ${webhookConfigurationName}`);
    }
    const webhooks = current.webhooks ?? [];
    if (webhooks.length === 0) {
      throw new MirrorhookError('MH_KUBE_API', `MutatingWebhookConfiguration ${webhookConfigurationName} has no webhooks to inject into`);
    }
    if (webhooks.every((webhook) => webhook.clientConfig.caBundle === caBundle)) return { webhooks: webhooks.length, changed: false };
    for (const webhook of webhooks) webhook.clientConfig.caBundle = caBundle;
    try {
      await api.replaceMutatingWebhookConfiguration({ name: webhookConfigurationName, body: current });
      return { webhooks: webhooks.length, changed: true };
    } catch (error) {
      if (statusOf(error) === 409 && attempt < attempts) continue;
      throw kubeError(error, `MutatingWebhookConfiguration ${webhookConfigurationName}`);
    }
  }
}
