/**
 * What background mirroring needs from the Kubernetes API, when the webhook runs with one:
 *
 * - PullSecrets: the Pod's `imagePullSecrets` and its ServiceAccount's, resolved from a watch-fed cache (two
 *   informers: docker-config Secrets of every namespace, ServiceAccounts), never a GET per copy.
 * - CopyLeases: a `coordination.k8s.io` Lease per target image, so that several webhook replicas admitting the
 *   same new image copy it once. The holder renews it while copying and deletes it when done.
 * - CopyEvents: a Warning Event in the Pod's namespace when a copy fails, where `kubectl get events` shows it.
 */
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { LeaseLock } from '../kube/lease.js';
import { type CredentialProvider, type DockerConfig, anonymousProvider, dockerConfigLookup, parseDockerConfig } from '../registry/index.js';

/** Who asked for a copy: enough to find the Pod's pull secrets and to report a failure on it. */
export interface PodOrigin {
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
  readonly imagePullSecrets: readonly string[];
}

export interface Informed<T extends k8s.KubernetesObject> {
  get(name: string, namespace?: string): T | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const dockerSecretTypes = ['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg'] as const;

/** Pull credentials of Pods, from watch-fed caches of Secrets and ServiceAccounts. */
export class PullSecrets {
  readonly #secrets: Informed<k8s.V1Secret>[];
  readonly #serviceAccounts: Informed<k8s.V1ServiceAccount>;
  readonly #parsed = new Map<string, { resourceVersion: string | undefined; config: DockerConfig | undefined }>();
  readonly #onProblem: (message: string) => void;

  constructor(secrets: Informed<k8s.V1Secret>[], serviceAccounts: Informed<k8s.V1ServiceAccount>, onProblem: (message: string) => void = () => undefined) {
    this.#secrets = secrets;
    this.#serviceAccounts = serviceAccounts;
    this.#onProblem = onProblem;
  }

  static fromKubeConfig(config: k8s.KubeConfig, onProblem?: (message: string) => void): PullSecrets {
    const core = config.makeApiClient(k8s.CoreV1Api);
    const watch = new k8s.Watch(config);
    const secrets = dockerSecretTypes.map(
      (type) =>
        new k8s.ListWatch<k8s.V1Secret>(
          '/api/v1/secrets',
          watch,
          () => core.listSecretForAllNamespaces({ fieldSelector: `type=${type}` }),
          false,
          undefined,
          `type=${type}`,
        ),
    );
    const serviceAccounts = new k8s.ListWatch<k8s.V1ServiceAccount>(
      '/api/v1/serviceaccounts',
      watch,
      () => core.listServiceAccountForAllNamespaces(),
      false,
    );
    return new PullSecrets(secrets.map(informed), informed(serviceAccounts), onProblem);
  }

  async start(): Promise<void> {
    await Promise.all([...this.#secrets, this.#serviceAccounts].map((cache) => cache.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#secrets, this.#serviceAccounts].map((cache) => cache.stop()));
  }

  /** Credentials for pulling this Pod's images: its own pull secrets first, then its ServiceAccount's. */
  providerFor(origin: PodOrigin): CredentialProvider {
    return async (host) => {
      const names = [...origin.imagePullSecrets, ...this.#serviceAccountSecrets(origin)];
      for (const name of names) {
        const config = this.#dockerConfig(origin.namespace, name);
        if (config === undefined) continue;
        const credential = await dockerConfigLookup(config)(host);
        if (credential !== undefined) return credential;
      }
      return anonymousProvider(host);
    };
  }

  #serviceAccountSecrets(origin: PodOrigin): string[] {
    const account = this.#serviceAccounts.get(origin.serviceAccount, origin.namespace);
    return (account?.imagePullSecrets ?? []).map((reference) => reference.name ?? '').filter((name) => name !== '');
  }

  #dockerConfig(namespace: string, name: string): DockerConfig | undefined {
    const secret = this.#secrets.map((cache) => cache.get(name, namespace)).find((found) => found !== undefined);
    if (secret === undefined) return undefined;
    const key = `${namespace}/${name}`;
    const cached = this.#parsed.get(key);
    if (cached !== undefined && cached.resourceVersion === secret.metadata?.resourceVersion) return cached.config;
    const data = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
    let config: DockerConfig | undefined;
    if (data !== undefined) {
      const text = Buffer.from(data, 'base64').toString('utf8');
      try {
        // The legacy .dockercfg format is the bare `auths` map.
        config = parseDockerConfig(secret.data?.['.dockerconfigjson'] === undefined ? JSON.stringify({ auths: JSON.parse(text) as unknown }) : text, `secret ${key}`);
      } catch (error) {
        this.#onProblem(`pull secret ${key} is not a usable Docker config: ${describeError(error)}`);
      }
    }
    this.#parsed.set(key, { resourceVersion: secret.metadata?.resourceVersion, config });
    return config;
  }
}

function informed<T extends k8s.KubernetesObject>(listWatch: k8s.ListWatch<T>): Informed<T> {
  return {
    get: (name, namespace) => listWatch.get(name, namespace),
    start: () => listWatch.start(),
    stop: () => listWatch.stop(),
  };
}

/** One Lease per target image: the replica holding it copies; the others leave the copy to it. */
export class CopyLeases {
  readonly #lock: LeaseLock;

  constructor(lock: LeaseLock) {
    this.#lock = lock;
  }

  /** A valid Lease name for a target (names must be DNS subdomains; references are not). */
  static nameFor(target: string): string {
    return `mirrorhook-copy-${createHash('sha256').update(target).digest('hex').slice(0, 40)}`;
  }

  withLease<T>(target: string, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false; holder: string }> {
    return this.#lock.withLease(CopyLeases.nameFor(target), { 'mirrorhook.io/target': target.slice(0, 1000) }, work);
  }
}

/** Warning Events for failed copies, in the namespace of the Pod that needed the image. */
export class CopyEvents {
  readonly #api: k8s.CoreV1Api;
  readonly #reporter: string;

  constructor(api: k8s.CoreV1Api, reporter: string) {
    this.#api = api;
    this.#reporter = reporter;
  }

  async copyFailed(origin: PodOrigin, source: string, target: string, reason: string): Promise<void> {
    const now = new Date();
    await this.#api.createNamespacedEvent({
      namespace: origin.namespace,
      body: {
        metadata: { generateName: 'mirrorhook-copy-failed-', namespace: origin.namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: origin.pod, namespace: origin.namespace },
        reason: 'MirrorCopyFailed',
        type: 'Warning',
        message: `mirrorhook could not copy ${source} to ${target}: ${reason}`.slice(0, 1024),
        source: { component: 'mirrorhook', host: this.#reporter },
        reportingComponent: 'mirrorhook.io/webhook',
        reportingInstance: this.#reporter,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
