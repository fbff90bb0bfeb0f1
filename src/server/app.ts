import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import {
  type AdmissionResult,
  type AdmissionReview,
  type RewriteGate,
  AdmissionMode,
  admit,
  parseAdmissionReview,
  reviewResponse,
  type PodLike,
  podDisplayName,
  pullIdentity,
  rewriteCandidates,
} from '../admission/index.js';
import type { Config } from '../config/schema.js';
import { describeError, isMirrorhookError } from '../errors.js';
import { Action, type Mapper, SkipReason, createMapper } from '../mapping/index.js';
import { type Metrics, createMetrics } from '../metrics/metrics.js';
import type { PemPair } from '../certs/generate.js';
import type { Mirroring } from '../mirroring/service.js';
import { StatusRecorder } from '../status/recorder.js';
import { registerStatusRoutes } from '../status/routes.js';
import type { SyncStatusCache } from '../status/sync.js';
import { version } from '../version.js';

export interface AppOptions {
  readonly config: Config;
  /** A pino logger, or false for none (tests, benchmarks). */
  readonly logger?: FastifyBaseLogger | false;
  readonly metrics?: Metrics;
  /** Serve HTTPS (HTTP/2 with HTTP/1.1 fallback) with this pair; plain HTTP/1.1 without (tests only). */
  readonly tls?: PemPair;
  /** Largest request body accepted. The API server's objects are at most ~1.5 MiB, old and new in one review. */
  readonly bodyLimit?: number;
  /** `swap: exists` and copying: the mirror catalog and copy queue. Without it every mapped image is rewritten. */
  readonly mirroring?: Mirroring;
  /** The sync status records for /status (config with `sync:` entries). */
  readonly syncStatus?: SyncStatusCache;
}

export interface WebhookApp {
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  /** Flip readiness (false while shutting down, so that no new requests are routed here). */
  setReady(ready: boolean): void;
}

export const routes = {
  mutate: '/mutate',
  audit: '/audit',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
} as const;

export const defaultBodyLimit = 4 * 1024 * 1024;

/** Asks the mirror catalog about this request's rewrites; any failure keeps every Pod on its source (fail open). */
async function prepareGate(
  mirroring: Mirroring,
  review: AdmissionReview,
  mapper: Mapper,
  mode: AdmissionMode,
  log: FastifyBaseLogger,
): Promise<RewriteGate | undefined> {
  const candidates = rewriteCandidates(review, mapper);
  if (candidates.length === 0) return undefined;
  try {
    const pod = (review.request.object ?? {}) as PodLike;
    const origin = { namespace: review.request.namespace ?? '', pod: podDisplayName(pod, review.request.name), ...pullIdentity(pod) };
    return await mirroring.prepare(candidates, { dryRun: review.request.dryRun === true, audit: mode === AdmissionMode.audit, origin });
  } catch (error) {
    log.error({ err: error }, 'mirror catalog failed; leaving images unchanged');
    const reason = `${SkipReason.mirrorUnknown}: ${describeError(error)}`;
    return () => ({ rewrite: false, skipReason: SkipReason.mirrorUnknown, reason });
  }
}

/** Builds the webhook application: routes, error handling, metrics. `listen` is the caller's (see listen.ts). */
export function buildApp(options: AppOptions): WebhookApp {
  const mapper = createMapper(options.config);
  const metrics = options.metrics ?? createMetrics();
  const recorder = new StatusRecorder(metrics);
  let ready = true;

  const common = {
    bodyLimit: options.bodyLimit ?? defaultBodyLimit,
    // The admission decision line is the log; per-request lines would double it on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    // The API server keeps connections open and reuses them; a webhook must not close them first.
    keepAliveTimeout: 75_000,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle' as const,
    ...(options.logger === undefined || options.logger === false ? { logger: false } : { loggerInstance: options.logger }),
  };
  const app = (
    options.tls === undefined
      ? Fastify(common)
      : Fastify({
          ...common,
          http2: true,
          https: { allowHTTP1: true, key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' },
        })
  ) as unknown as FastifyInstance;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.code(status).send({ error: { code: error.code ?? 'MH_INTERNAL', message: error.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: { code: 'MH_NOT_FOUND', message: `no route ${request.method} ${request.url}; the webhook serves POST /mutate and POST /audit${options.config.status.enabled ? ', GET /status' : ''}` },
    });
  });

  const handleReview = (route: keyof typeof routes, mode: AdmissionMode) =>
    async function handler(request: { body: unknown; log: FastifyBaseLogger }, reply: { code(n: number): unknown; elapsedTime: number }) {
      let review;
      try {
        review = parseAdmissionReview(request.body);
      } catch (error) {
        metrics.admissionRequests.inc({ route, outcome: 'bad-request' });
        request.log.warn({ err: error }, 'rejected a request that is not an AdmissionReview v1');
        reply.code(400);
        return { error: { code: isMirrorhookError(error) ? error.code : 'MH_ADMISSION_BODY', message: (error as Error).message } };
      }
      const gate = options.mirroring === undefined ? undefined : await prepareGate(options.mirroring, review, mapper, mode, request.log);
      const result = admit(review, mapper, mode, gate);
      record(route, result, request.log);
      recorder.recordAdmission(mode, result);
      metrics.admissionDuration.observe({ route }, reply.elapsedTime / 1000);
      return reviewResponse(result.response);
    };

  const record = (route: string, result: AdmissionResult, log: FastifyBaseLogger): void => {
    metrics.admissionRequests.inc({ route, outcome: result.outcome });
    for (const container of result.containers) {
      const decision = container.decision;
      metrics.imageDecisions.inc({ action: decision.action, reason: decision.action === Action.skip ? decision.skipReason : decision.action });
      if (decision.action === Action.rewrite) metrics.rewrites.inc({ registry: decision.source.domain });
    }
    log.info(
      {
        route,
        namespace: result.namespace,
        pod: result.pod,
        dryRun: result.dryRun,
        action: result.outcome,
        images: result.containers.map((container) => ({
          container: container.name,
          image: container.image,
          action: container.decision.action,
          ...(container.decision.action === Action.rewrite ? {} : { reason: container.decision.reason }),
        })),
        ...(result.response.warnings === undefined ? {} : { warnings: result.response.warnings }),
      },
      'admission decision',
    );
  };

  app.post(routes.mutate, handleReview('mutate', AdmissionMode.enforce));
  app.post(routes.audit, handleReview('audit', AdmissionMode.audit));
  app.get(routes.healthz, () => ({ status: 'ok' }));
  app.get(routes.readyz, (_request, reply) => {
    if (!ready) return reply.code(503).send({ status: 'shutting down' });
    return { status: 'ready' };
  });
  app.get(routes.metrics, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  registerStatusRoutes(app, { config: options.config, metrics, recorder, mirroring: options.mirroring, sync: options.syncStatus, version });

  return {
    app,
    metrics,
    setReady(value) {
      ready = value;
    },
  };
}
