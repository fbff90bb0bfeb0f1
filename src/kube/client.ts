import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
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

/** Where a pod's service account token is mounted: its presence means "running inside a cluster". */
export const serviceAccountTokenFile = '/var/run/secrets/kubernetes.io/serviceaccount/token';

const howToGiveACluster = 'set KUBECONFIG, pass --kubeconfig FILE, put a kubeconfig at ~/.kube/config, or run inside a cluster (a Pod with a service account)';

/**
 * The one place a KubeConfig is made: `--kubeconfig FILE`, else KUBECONFIG (files merged as kubectl does), else
 * ~/.kube/config, else the in-cluster service account. When none of them exists this says so, instead of the
 * client library's fallback to http://localhost:8080, whose only error is "HTTP protocol is not allowed when
 * skipTLSVerify is not set or false" at the first request.
 */
export function loadKubeConfig(
  kubeconfigPath?: string,
  env: NodeJS.ProcessEnv = process.env,
  inCluster: () => boolean = () => existsSync(serviceAccountTokenFile),
): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  const home = env.HOME ?? env.USERPROFILE;
  const homeFile = home === undefined ? undefined : join(home, '.kube', 'config');
  let files: string[];
  let origin: string;
  if (kubeconfigPath !== undefined) {
    [files, origin] = [[kubeconfigPath], '--kubeconfig'];
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    [files, origin] = [env.KUBECONFIG.split(delimiter).filter((file) => file !== ''), 'KUBECONFIG'];
  } else if (homeFile !== undefined && existsSync(homeFile)) {
    [files, origin] = [[homeFile], 'the default kubeconfig'];
  } else if (inCluster()) {
    [files, origin] = [[], 'in-cluster configuration'];
  } else {
    throw new MirrorhookError('MH_KUBE_CONFIG', `no cluster is configured: ${howToGiveACluster}`);
  }
  try {
    if (files.length === 0) config.loadFromCluster();
    for (const [index, file] of files.entries()) {
      if (!existsSync(file)) throw new Error(`${file} does not exist`);
      if (index === 0) {
        config.loadFromFile(file);
        continue;
      }
      const next = new k8s.KubeConfig();
      next.loadFromFile(file);
      config.mergeConfig(next, false);
    }
  } catch (error) {
    throw new MirrorhookError('MH_KUBE_CONFIG', `${origin}: ${error instanceof Error ? error.message : String(error)}; ${howToGiveACluster}`, { cause: error });
  }
  if (config.getCurrentCluster() === null) {
    throw new MirrorhookError('MH_KUBE_CONFIG', `${origin} has no current context with a cluster: choose one with kubectl config use-context, or ${howToGiveACluster}`);
  }
  const server = config.getCurrentCluster()?.server ?? '';
  if (!URL.canParse(server)) {
    throw new MirrorhookError('MH_KUBE_CONFIG', `${origin}: the current cluster's server ${JSON.stringify(server.slice(0, 200))} is not a URL like https://10.0.0.1:6443`);
  }
  return config;
}
