import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The webhook's Prometheus metrics, on a registry of their own (no global singleton: two servers in one process,
 * as in tests, do not share counters). Every name starts with `mirrorhook_`.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly admissionRequests: Counter<'route' | 'outcome'>;
  readonly admissionDuration: Histogram<'route'>;
  readonly imageDecisions: Counter<'action' | 'reason'>;
  readonly rewrites: Counter<'registry'>;
  readonly certificateReloads: Counter<'result'>;
  readonly certificateNotAfter: Gauge;
  readonly catalogLookups: Counter<'result' | 'state'>;
  readonly copyQueueDepth: Gauge;
  readonly copies: Counter<'registry' | 'status'>;
  readonly copyDuration: Histogram<'registry'>;
  readonly copyBytes: Counter<'registry'>;
  readonly decisions: Counter<'pod_namespace' | 'mode' | 'outcome' | 'reason'>;
  readonly thirdPartyImages: Counter<'registry' | 'mode'>;
  readonly copiesInFlight: Gauge;
  readonly copyFailures: Counter<'registry' | 'code'>;
  readonly copyLastProgress: Gauge;
  readonly catalogEntries: Gauge;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'mirrorhook_' });
  return {
    registry,
    admissionRequests: new Counter({
      name: 'mirrorhook_admission_requests_total',
      help: 'AdmissionReview requests answered, by route and outcome.',
      labelNames: ['route', 'outcome'],
      registers: [registry],
    }),
    admissionDuration: new Histogram({
      name: 'mirrorhook_admission_duration_seconds',
      help: 'Time from request received to AdmissionReview answered, by route.',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 1, 3],
      registers: [registry],
    }),
    imageDecisions: new Counter({
      name: 'mirrorhook_image_decisions_total',
      help: 'Container images decided, by action (rewrite, skip, invalid) and reason code.',
      labelNames: ['action', 'reason'],
      registers: [registry],
    }),
    rewrites: new Counter({
      name: 'mirrorhook_rewrites_total',
      help: 'Container images rewritten to the mirror (or that would be, in audit mode), by source registry.',
      labelNames: ['registry'],
      registers: [registry],
    }),
    certificateReloads: new Counter({
      name: 'mirrorhook_certificate_reloads_total',
      help: 'Serving certificate reloads after the files changed, by result (ok, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    certificateNotAfter: new Gauge({
      name: 'mirrorhook_certificate_not_after_timestamp_seconds',
      help: 'When the serving certificate expires, as a Unix timestamp.',
      registers: [registry],
    }),
    catalogLookups: new Counter({
      name: 'mirrorhook_catalog_lookups_total',
      help: 'Mirror catalog questions, by result (hit, miss, stale) and the answer state (present, absent, unknown).',
      labelNames: ['result', 'state'],
      registers: [registry],
    }),
    copyQueueDepth: new Gauge({
      name: 'mirrorhook_copy_queue_depth',
      help: 'Background copies waiting or running.',
      registers: [registry],
    }),
    copies: new Counter({
      name: 'mirrorhook_copies_total',
      help: 'Background copy attempts, by source registry and status (copied, up-to-date, failed).',
      labelNames: ['registry', 'status'],
      registers: [registry],
    }),
    copyDuration: new Histogram({
      name: 'mirrorhook_copy_duration_seconds',
      help: 'Time one background copy attempt took, by source registry.',
      labelNames: ['registry'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
    copyBytes: new Counter({
      name: 'mirrorhook_copy_bytes_total',
      help: 'Bytes streamed into the mirror by background copies, by source registry.',
      labelNames: ['registry'],
      registers: [registry],
    }),
    // The status page (GET /status) is built from the metrics below; see docs/monitoring.md.
    decisions: new Counter({
      name: 'mirrorhook_decisions_total',
      help: 'Container images decided, by the Pod namespace, mode (enforce, audit), outcome (rewritten, would-rewrite, kept, invalid) and, for kept, the reason.',
      labelNames: ['pod_namespace', 'mode', 'outcome', 'reason'],
      registers: [registry],
    }),
    thirdPartyImages: new Counter({
      name: 'mirrorhook_third_party_images_total',
      help: 'Container images admitted that still pull from a third-party registry (kept, or only reported in audit mode), by source registry and mode.',
      labelNames: ['registry', 'mode'],
      registers: [registry],
    }),
    copiesInFlight: new Gauge({
      name: 'mirrorhook_copies_in_flight',
      help: 'Background copies running now (including those waiting out a retry backoff).',
      registers: [registry],
    }),
    copyFailures: new Counter({
      name: 'mirrorhook_copy_failures_total',
      help: 'Background copies that failed after every retry, by source registry and error code.',
      labelNames: ['registry', 'code'],
      registers: [registry],
    }),
    copyLastProgress: new Gauge({
      name: 'mirrorhook_copy_last_progress_timestamp_seconds',
      help: 'When the copy queue last made progress (a copy attempt finished, or the queue was empty), as a Unix timestamp.',
      registers: [registry],
    }),
    catalogEntries: new Gauge({
      name: 'mirrorhook_catalog_entries',
      help: 'Answers held by the mirror catalog (present, absent or unknown images).',
      registers: [registry],
    }),
  };
}
