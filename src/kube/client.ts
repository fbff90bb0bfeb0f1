import * as k8s from '@kubernetes/client-node';
import { MirrorhookError } from '../errors.js';

/**
 * The edge to the Kubernetes API: loading a KubeConfig and telling "the API server said no" apart from our bugs.
 * Every module that talks to a cluster goes through these.
 */

/** Wraps an error from the API server so that "their side failed" reads apart from a bug of ours. */
export function kubeError(error: unknown, what: string): MirrorhookError {
  const status = statusOf(error);
  if (status === 404) return new MirrorhookError('MH_KUBE_NOT_FOUND', `${what} not found`, { cause: error });
  const reason = error instanceof k8s.ApiException ? apiMessage(error.body) : error instanceof Error ? error.message : String(error);
  return new MirrorhookError('MH_KUBE_API', `${what}: ${status === undefined ? '' : `HTTP ${status}: `}${reason}`, { cause: error });
}

export function statusOf(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

function apiMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body.slice(0, 300);
    }
    return body.slice(0, 300);
  }
  if (body !== null && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return 'no reason given';
}

/** A KubeConfig from KUBECONFIG / ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(kubeconfigPath?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  try {
    if (kubeconfigPath === undefined) config.loadFromDefault();
    else config.loadFromFile(kubeconfigPath);
  } catch (error) {
    throw new MirrorhookError('MH_KUBE_CONFIG', error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (config.getCurrentCluster() === null) {
    throw new MirrorhookError('MH_KUBE_CONFIG', 'set KUBECONFIG, pass --kubeconfig, or run inside a cluster');
  }
  return config;
}
