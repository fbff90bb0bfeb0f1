/**
 * Wires background mirroring for `serve`: one RegistryClient (pools, auth, retries) shared by the catalog's
 * HEADs, the tag refresh and the copy engine; per-Pod pull secrets, copy Leases and failure Events when a
 * Kubernetes API is at hand; metrics and a log line for every copy.
 */
import { hostname } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { copyImages } from '../copy/executor.js';
import { resolveRegistrySettings } from '../copy/setup.js';
import { MirrorhookError, describeError } from '../errors.js';
import { googleRegistrySetup, repositoryRegistryPath } from '../google/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { formatReference } from '../reference/index.js';
import type { CircuitBreakerPolicy, RegistryClient } from '../registry/index.js';
import { MirrorCatalog } from './catalog.js';
import type { CopyEvents, CopyLeases, PullSecrets } from './cluster.js';
import { type CopyJob, type CopyOutcome, CopyQueue, type QueueOptions } from './queue.js';
import { Mirroring } from './service.js';

export { MirrorCatalog } from './catalog.js';
export type { Presence } from './catalog.js';
export type { PodOrigin } from './cluster.js';
export { CopyQueue } from './queue.js';
export type { CopyJob, CopyOutcome, FailedCopy, QueueSnapshot, QueuedCopy } from './queue.js';
export { Mirroring } from './service.js';
export type { MirroringStatus } from './service.js';

/** True when the configuration needs the mirror catalog or copying at all. */
export function needsMirroring(config: Config): boolean {
  return config.swap === 'exists' || config.copy !== 'none';
}

export interface MirroringRuntime {
  readonly mirroring: Mirroring;
  /** The mirror client (shared pools and tokens): the status page reads the sync records with it. */
  readonly client: RegistryClient;
  /** Whether pull secrets, Leases and Events are on (a Kubernetes API was found). */
  readonly cluster: boolean;
  /** Stops copying: queued copies fail as closed, running ones get `graceMs` (default 20 s), then are interrupted. */
  close(graceMs?: number): Promise<void>;
}

export interface MirroringEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** The Kubernetes API to use; undefined = decide from config (`kubernetes.enabled`) and the environment. */
  readonly kubeConfig?: k8s.KubeConfig | undefined;
  /**
   * The copy queue's retry schedule (defaults in queue.ts) and the registry client's circuit breaker (defaults in
   * registry/transport.ts): tests that shorten an outage shorten these alike.
   */
  readonly timing?: {
    readonly queue?: Pick<QueueOptions, 'attempts' | 'baseBackoffMs' | 'maxBackoffMs'>;
    readonly breaker?: Partial<CircuitBreakerPolicy>;
  };
}

/** The KubeConfig background mirroring should use, or undefined when it runs without a cluster. */
export async function clusterConfig(config: Config, env: NodeJS.ProcessEnv): Promise<k8s.KubeConfig | undefined> {
  const enabled = config.kubernetes.enabled;
  if (enabled === false) return undefined;
  const file = config.kubernetes.kubeconfig;
  const available = file !== '' || env.KUBERNETES_SERVICE_HOST !== undefined || env.KUBECONFIG !== undefined;
  if (enabled === 'auto' && !available) return undefined;
  const { loadKubeConfig } = await import('../kube/client.js');
  try {
    return loadKubeConfig(file === '' ? undefined : file, env);
  } catch (error) {
    const detail = error instanceof MirrorhookError ? (error.detail ?? error.message) : describeError(error);
    throw new MirrorhookError('MH_KUBE_CONFIG', `kubernetes.enabled is ${String(enabled)}: ${detail}`, { cause: error });
  }
}

export async function createMirroring(config: Config, metrics: Metrics, log: FastifyBaseLogger, environment: MirroringEnvironment): Promise<MirroringRuntime> {
  const { env } = environment;
  // Google hosts: ADC access tokens when the Docker config has nothing for them; Artifact Registry repositories
  // checked (created with mirror.createRepository) before the first copy into them. Inert for other mirrors.
  const google = await googleRegistrySetup(config.mirror, {
    env,
    onCreated: (repository) => log.info({ repository: repositoryRegistryPath(repository) }, 'created the Artifact Registry repository'),
  });
  const prepareRepository = google.prepareRepository;
  // The clients every command builds, from the same function: mirror.caFile, mirror.insecure and
  // credentials.dockerConfig mean one thing everywhere. Read now: a missing or broken file stops the start.
  const registry = await resolveRegistrySettings({ env, config, fallbackProviders: [google.credentials] });
  // The catalog asks on the admission path's behalf: a mirror that does not answer must not be retried for long.
  // Aborted on shutdown once the copies' grace period is over: in-flight requests stop instead of holding the exit.
  const stopping = new AbortController();
  const signal = stopping.signal;
  const breaker = environment.timing?.breaker;
  const client = registry.client({ prepareRepository, signal, breaker, retry: { attempts: 3, maxDelayMs: 2_000 } });

  const kubeConfig = 'kubeConfig' in environment ? environment.kubeConfig : await clusterConfig(config, env);
  let pullSecrets: PullSecrets | undefined;
  let leases: CopyLeases | undefined;
  let events: CopyEvents | undefined;
  if (kubeConfig !== undefined) {
    // Loaded only with a cluster: a webhook without one does not carry the Kubernetes client.
    const [{ CoordinationV1Api, CoreV1Api }, { CopyEvents, CopyLeases, PullSecrets }, { LeaseLock }] = await Promise.all([
      import('@kubernetes/client-node'),
      import('./cluster.js'),
      import('../kube/lease.js'),
    ]);
    const identity = env.POD_NAME ?? `${hostname()}-${process.pid}`;
    pullSecrets = PullSecrets.fromKubeConfig(kubeConfig, (message) => log.warn(message));
    leases = new CopyLeases(
      new LeaseLock(kubeConfig.makeApiClient(CoordinationV1Api), {
        namespace: config.kubernetes.leaseNamespace || env.POD_NAMESPACE || 'mirrorhook',
        holder: identity,
      }),
    );
    events = new CopyEvents(kubeConfig.makeApiClient(CoreV1Api), identity);
    try {
      await pullSecrets.start();
    } catch (error) {
      // Fail open: without the cache, copies use the configured credentials only.
      log.warn({ error: describeError(error) }, 'cannot watch Secrets and ServiceAccounts; copies use the configured credentials only');
      pullSecrets = undefined;
    }
  }

  const copyWith = async (job: CopyJob): Promise<CopyOutcome> => {
    const started = Date.now();
    let copyClient = client;
    if (job.origin !== undefined && pullSecrets !== undefined) {
      // The Pod's own pull secrets first; a client per such copy keeps their tokens apart from other Pods'.
      copyClient = registry.client({ prepareRepository, signal, breaker }, [pullSecrets.providerFor(job.origin)]);
    }
    try {
      const [result] = await copyImages(copyClient, [{ source: job.source, target: job.target }], { jobs: 4, signatures: true, signal });
      const durationMs = Date.now() - started;
      if (result === undefined || result.status === 'failed' || result.status === 'planned') {
        return { status: 'failed', code: result?.error?.code ?? 'MH_COPY_FAILED', message: result?.error?.message ?? 'no result', durationMs };
      }
      return { status: result.status, digest: result.digest, bytes: result.bytes, durationMs };
    } finally {
      if (copyClient !== client) await copyClient.close();
    }
  };
  const copy = async (job: CopyJob): Promise<CopyOutcome> => {
    if (leases === undefined) return copyWith(job);
    const started = Date.now();
    let held;
    try {
      held = await leases.withLease(formatReference(job.target), () => copyWith(job));
    } catch (error) {
      // No Lease API (RBAC, outage): copying twice is wasteful but correct; not copying is worse.
      log.warn({ error: describeError(error) }, 'copy Lease unavailable; copying without it');
      return copyWith(job);
    }
    return held.ran ? held.value : { status: 'elsewhere', holder: held.holder, durationMs: Date.now() - started };
  };

  const progressed = (): void => metrics.copyLastProgress.set(Date.now() / 1000);
  progressed();
  const queue = new CopyQueue(copy, {
    ...environment.timing?.queue,
    concurrency: config.copyJobs,
    onDepth: (depth, running) => {
      metrics.copyQueueDepth.set(depth);
      metrics.copiesInFlight.set(running);
      // An empty queue is not stuck: the "queue stuck" alert measures from here.
      if (depth === 0) progressed();
    },
    onSettled: (job, outcome, attempt) => {
      progressed();
      const registry = job.source.domain;
      metrics.copies.inc({ registry, status: outcome.status });
      metrics.copyDuration.observe({ registry }, outcome.durationMs / 1000);
      const fields = { source: formatReference(job.source), target: formatReference(job.target), attempt, durationMs: outcome.durationMs };
      if (outcome.status === 'failed') {
        log.warn({ ...fields, code: outcome.code, error: outcome.message }, 'background copy failed');
      } else if (outcome.status === 'elsewhere') {
        log.info({ ...fields, holder: outcome.holder }, 'background copy left to the replica holding its Lease');
      } else {
        metrics.copyBytes.inc({ registry }, outcome.bytes);
        log.info({ ...fields, status: outcome.status, digest: outcome.digest, bytes: outcome.bytes }, 'background copy done');
      }
    },
  });
  const catalog: MirrorCatalog = new MirrorCatalog(client, {
    presentTtlMs: config.catalog.presentTtlSeconds * 1000,
    absentTtlMs: config.catalog.absentTtlSeconds * 1000,
    onLookup: (result, state) => {
      metrics.catalogLookups.inc({ result, state });
      metrics.catalogEntries.set(catalog.size);
    },
    onError: (target, error) => log.warn({ target, error: describeError(error) }, 'mirror lookup failed'),
  });
  const mirroring = new Mirroring({
    config,
    catalog,
    queue,
    sources: client,
    log: (level, message, fields) => log[level](fields, message),
    onCopyFailed: (job, outcome) => {
      metrics.copyFailures.inc({ registry: job.source.domain, code: outcome.code });
      if (events === undefined || job.origin === undefined) return;
      events
        .copyFailed(job.origin, formatReference(job.source), formatReference(job.target), `${outcome.code}: ${outcome.message}`)
        .catch((error: unknown) => log.warn({ error: describeError(error) }, 'cannot post the copy-failure Event'));
    },
  });
  return {
    mirroring,
    client,
    cluster: kubeConfig !== undefined,
    async close(graceMs = 20_000) {
      const drained = mirroring.close();
      if (!(await settlesWithin(drained, graceMs))) {
        log.warn({ graceMs, copies: mirroring.queueDepth }, 'background copies still running after the grace period; interrupting them');
        stopping.abort();
        // Interrupted copies fail at their next request; a request that ignores the abort does not hold the exit.
        await settlesWithin(drained, 2_000);
      }
      await pullSecrets?.stop();
      await Promise.all([client.close(), google.close()]);
    },
  };
}

/** True when the promise settled within `ms`; the timer is cleared either way. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
