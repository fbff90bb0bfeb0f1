import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { formatMirrorRegistry, parseMirrorRegistry } from '../mapping/index.js';
import type { Metrics } from '../metrics/metrics.js';
import type { FailedCopy, Mirroring, QueuedCopy } from '../mirroring/index.js';
import type { SyncStatusView } from '../sync/record.js';
import { DecisionOutcome, type StatusRecorder } from './recorder.js';
import type { SyncStatusCache } from './sync.js';

export interface DecisionCounts {
  rewritten: number;
  wouldRewrite: number;
  kept: number;
  invalid: number;
  /** Kept images by reason code (docs/configuration.md lists them). */
  keptBy: Record<string, number>;
}

export interface NamespaceStatus extends DecisionCounts {
  mode: string;
  pods: number;
  lastSeen: string | null;
  byMode: Record<string, DecisionCounts>;
}

export interface CopyView {
  source: string;
  target: string;
  queuedAt: string;
  startedAt: string | null;
  attempt: number;
  lastError: string | null;
  nextRetry: string | null;
}

export interface FailureView {
  source: string;
  target: string;
  code: string;
  message: string;
  attempts: number;
  at: string;
  /** The copy is tried again when the next Pod using the image is admitted, not before this. */
  nextRetry: string;
}

/** The `GET /status.json` document (PRODUCT.md: `namespaces` keyed by name, plus `copies`, `catalog`, `certificate`). */
export interface Status {
  replica: { host: string; version: string; startedAt: string; uptimeSeconds: number; generatedAt: string };
  totals: DecisionCounts & { pods: number };
  namespaces: Record<string, NamespaceStatus>;
  registries: Record<string, { thirdParty: number; rewritten: number }>;
  requests: Record<string, Record<string, number>>;
  copies:
    | { enabled: false; reason: string }
    | {
        enabled: true;
        queued: number;
        inFlight: number;
        done: number;
        upToDate: number;
        elsewhere: number;
        failed: number;
        failedAttempts: number;
        waiting: CopyView[];
        running: CopyView[];
        failures: FailureView[];
      };
  catalog:
    | { enabled: false; reason: string }
    | { enabled: true; entries: number; present: number; absent: number; unknown: number; lookups: number; hits: number; hitRate: number | null };
  certificate: { notAfter: string | null; daysLeft: number | null };
  /** When each repository of `sync:` last succeeded, from the records sync leaves in the mirror (ADR 0215). */
  sync: { enabled: false; reason: string } | ({ enabled: true } & SyncStatusView);
  config: Record<string, unknown>;
}

export interface StatusSources {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly recorder: StatusRecorder;
  readonly mirroring?: Mirroring | undefined;
  /** The sync status records; undefined when the config has no `sync:` entries. */
  readonly sync?: SyncStatusCache | undefined;
  readonly version: string;
}

const emptyCounts = (): DecisionCounts => ({ rewritten: 0, wouldRewrite: 0, kept: 0, invalid: 0, keptBy: {} });

function add(counts: DecisionCounts, outcome: string, reason: string, value: number): void {
  if (outcome === DecisionOutcome.rewritten) counts.rewritten += value;
  else if (outcome === DecisionOutcome.wouldRewrite) counts.wouldRewrite += value;
  else if (outcome === DecisionOutcome.invalid) counts.invalid += value;
  else if (outcome === DecisionOutcome.kept) {
    counts.kept += value;
    counts.keptBy[reason] = (counts.keptBy[reason] ?? 0) + value;
  }
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** What the status page shows, read from the metrics and the queue when asked: nothing is prepared per request. */
export async function buildStatus(sources: StatusSources): Promise<Status> {
  const { metrics, recorder, mirroring, config } = sources;
  const now = recorder.now();
  const [decisions, thirdParty, rewrites, requests, lookups, notAfter, copyAttempts] = await Promise.all([
    metrics.decisions.get(),
    metrics.thirdPartyImages.get(),
    metrics.rewrites.get(),
    metrics.admissionRequests.get(),
    metrics.catalogLookups.get(),
    metrics.certificateNotAfter.get(),
    metrics.copies.get(),
  ]);
  const sync: Status['sync'] =
    sources.sync !== undefined
      ? { enabled: true, ...(await sources.sync.view()) }
      : { enabled: false, reason: config.sync.length === 0 ? 'the config has no sync: entries' : 'no mirror client reads the sync records here' };

  const totals = { ...emptyCounts(), pods: 0 };
  const namespaces: Record<string, NamespaceStatus> = {};
  for (const { labels, value } of decisions.values) {
    const name = String(labels.pod_namespace ?? '');
    const mode = String(labels.mode ?? '');
    const outcome = String(labels.outcome ?? '');
    const reason = String(labels.reason ?? '');
    let entry = namespaces[name];
    if (entry === undefined) {
      const seen = recorder.namespace(name);
      entry = { mode: seen?.mode ?? mode, pods: seen?.pods ?? 0, lastSeen: iso(seen?.lastSeenAt), ...emptyCounts(), byMode: {} };
      namespaces[name] = entry;
      totals.pods += entry.pods;
    }
    const byMode = (entry.byMode[mode] ??= emptyCounts());
    add(entry, outcome, reason, value);
    add(byMode, outcome, reason, value);
    add(totals, outcome, reason, value);
  }

  const registries: Status['registries'] = {};
  for (const { labels, value } of thirdParty.values) {
    const row = (registries[String(labels.registry)] ??= { thirdParty: 0, rewritten: 0 });
    row.thirdParty += value;
  }
  for (const { labels, value } of rewrites.values) {
    const row = (registries[String(labels.registry)] ??= { thirdParty: 0, rewritten: 0 });
    row.rewritten += value;
  }

  const requestCounts: Status['requests'] = {};
  for (const { labels, value } of requests.values) {
    const route = (requestCounts[String(labels.route)] ??= {});
    route[String(labels.outcome)] = (route[String(labels.outcome)] ?? 0) + value;
  }

  const notAfterSeconds = notAfter.values[0]?.value ?? 0;
  const certificate =
    notAfterSeconds > 0
      ? { notAfter: iso(notAfterSeconds * 1000), daysLeft: Math.floor(((notAfterSeconds * 1000 - now) / 86_400_000) * 10) / 10 }
      : { notAfter: null, daysLeft: null };

  let copies: Status['copies'];
  let catalog: Status['catalog'];
  if (mirroring === undefined) {
    const reason = 'swap: always with copy: none: the webhook neither asks the mirror nor copies';
    copies = { enabled: false, reason };
    catalog = { enabled: false, reason };
  } else {
    const { queue, catalog: held } = mirroring.status();
    const failedAttempts = copyAttempts.values.filter((row) => row.labels.status === 'failed').reduce((sum, row) => sum + row.value, 0);
    copies = {
      enabled: true,
      queued: queue.waiting.length,
      inFlight: queue.running.length,
      done: queue.finished.copied + queue.finished['up-to-date'],
      upToDate: queue.finished['up-to-date'],
      elsewhere: queue.finished.elsewhere,
      failed: queue.finished.failed,
      failedAttempts,
      waiting: queue.waiting.map(copyView),
      running: queue.running.map(copyView),
      failures: queue.recentFailures.map((failure) => failureView(failure, now)),
    };
    const count = (result: string): number => lookups.values.filter((row) => row.labels.result === result).reduce((sum, row) => sum + row.value, 0);
    const hits = count('hit') + count('stale');
    const total = hits + count('miss');
    catalog = { enabled: true, ...held, lookups: total, hits, hitRate: total === 0 ? null : Math.round((hits / total) * 1000) / 1000 };
  }

  return {
    replica: {
      host: hostname(),
      version: sources.version,
      startedAt: new Date(recorder.startedAt).toISOString(),
      uptimeSeconds: Math.round((now - recorder.startedAt) / 1000),
      generatedAt: new Date(now).toISOString(),
    },
    totals,
    namespaces,
    registries,
    requests: requestCounts,
    copies,
    catalog,
    certificate,
    sync,
    config: configSummary(config),
  };
}

function copyView(copy: QueuedCopy): CopyView {
  return {
    source: copy.source,
    target: copy.target,
    queuedAt: iso(copy.queuedAt) ?? '',
    startedAt: iso(copy.startedAt),
    attempt: copy.attempt,
    lastError: copy.lastError,
    nextRetry: iso(copy.retryAt),
  };
}

function failureView(failure: FailedCopy, now: number): FailureView {
  const notBefore = failure.registryBackoffUntil !== null && failure.registryBackoffUntil > now ? failure.registryBackoffUntil : now;
  return {
    source: failure.source,
    target: failure.target,
    code: failure.code,
    message: failure.message,
    attempts: failure.attempts,
    at: iso(failure.at) ?? '',
    nextRetry: iso(notBefore) ?? '',
  };
}

/**
 * The configuration as the page shows it. Built from an allow-list of keys, so a key added later is not shown
 * until someone decides it may be: file paths of credentials appear only as "set", never their contents.
 */
export function configSummary(config: Config): Record<string, unknown> {
  const set = (value: string | undefined): string => (value === undefined || value === '' ? 'not set' : 'set');
  return {
    mirror: {
      registry: formatMirrorRegistry(parseMirrorRegistry(config.mirror.registry)),
      layout: config.mirror.layout,
      insecure: config.mirror.insecure,
      caFile: set(config.mirror.caFile),
      remotes: Object.keys(config.mirror.remotes ?? {}),
      googleJsonKeyFile: set(config.mirror.googleJsonKeyFile),
    },
    sources: { include: config.sources.include, exclude: config.sources.exclude },
    swap: config.swap,
    copy: config.copy,
    copyDeadlineSeconds: config.copyDeadlineSeconds,
    copyJobs: config.copyJobs,
    catalog: config.catalog,
    audit: config.audit,
    credentials: { dockerConfig: set(config.credentials.dockerConfig) },
    kubernetes: { enabled: config.kubernetes.enabled },
  };
}
