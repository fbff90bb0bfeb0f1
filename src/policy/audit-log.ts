import { MirrorhookError } from '../errors.js';
import { type LogEntry, readLogEntries } from '../google/log-export.js';

/**
 * Exported Cloud Audit Log entries of Binary Authorization in dry-run. GKE records a Pod creation that the policy
 * would have denied with the label `imagepolicywebhook.image-policy.k8s.io/dry-run: "true"` and says why in
 * `…/overridden-verification-result` ("Image X denied by <rule>."). The file is what `gcloud logging read
 * --format=json` prints (a JSON array) or a Cloud Logging export (one JSON entry per line).
 */
const dryRunLabel = 'imagepolicywebhook.image-policy.k8s.io/dry-run';
const resultLabel = 'imagepolicywebhook.image-policy.k8s.io/overridden-verification-result';

export interface Violation {
  readonly image: string;
  readonly count: number;
  /** Rules that denied it, as the log words them: `Binary Authorization default admission rule`. */
  readonly rules: readonly string[];
  readonly namespaces: readonly string[];
  readonly clusters: readonly string[];
  readonly firstSeen: string | undefined;
  readonly lastSeen: string | undefined;
}

export interface AuditLogSummary {
  readonly violations: readonly Violation[];
  /** Entries read in all. */
  readonly entries: number;
  /** Dry-run entries whose verification result names no image (reported, so nothing is silently dropped). */
  readonly unparsed: number;
  /**
   * Entries of the right kind: Binary Authorization dry-run entries, or Kubernetes audit log entries (an export of
   * Pod creations in which nothing was denied). Zero of them in a non-empty file means the wrong export was given.
   */
  readonly auditEntries: number;
}

/** The query that exports the right entries, for messages. */
export const auditLogExportCommand =
  `gcloud logging read 'labels."${dryRunLabel}"="true"' --format=json > dryrun.json`;

/**
 * Reads an export given to --from-audit-logs: parsed, summarized, and refused (MH_POLICY_AUDIT_LOG_KIND) when it
 * holds entries but none is an audit entry, so the wrong file cannot read as "0 images violated the policy".
 * `[]` is what gcloud prints when nothing matched: a real answer, accepted. An empty file is not an export.
 */
export function readAuditLog(text: string, origin: string): AuditLogSummary {
  if (text.trim() === '') {
    throw new MirrorhookError('MH_POLICY_AUDIT_LOG_KIND', `${origin} is empty (gcloud prints [] when nothing matched); export with ${auditLogExportCommand}`);
  }
  const entries = parseLogEntries(text, origin);
  const summary = summarizeAuditLog(entries);
  if (summary.entries > 0 && summary.auditEntries === 0) {
    const pulling = entries.filter((entry) => record(record(entry).jsonPayload).reason === 'Pulling').length;
    const looksLike = pulling > 0 ? ` (${pulling} are Kubernetes Pulling events: mirrorhook pulls --from-logs reads those)` : '';
    throw new MirrorhookError(
      'MH_POLICY_AUDIT_LOG_KIND',
      `${origin}: none of its ${summary.entries} entries is a Binary Authorization dry-run audit entry (label ${dryRunLabel})` +
        ` or a Kubernetes audit log entry${looksLike}; export with ${auditLogExportCommand}`,
    );
  }
  return summary;
}

/** Parses the file's text into entries (google/log-export.ts, the reader every log export goes through). */
export function parseLogEntries(text: string, origin: string): LogEntry[] {
  return readLogEntries(text, origin, 'MH_POLICY_AUDIT_LOG');
}

/** Lists the images that violated the policy, most frequent first. */
export function summarizeAuditLog(entries: readonly unknown[]): AuditLogSummary {
  const byImage = new Map<
    string,
    { count: number; rules: Set<string>; namespaces: Set<string>; clusters: Set<string>; first?: string; last?: string }
  >();
  let unparsed = 0;
  let auditEntries = 0;
  for (const entry of entries) {
    const labels = record(record(entry).labels);
    const dryRun = labels[dryRunLabel] === 'true' || labels[dryRunLabel] === true;
    const result = labels[resultLabel];
    if (dryRun || typeof result === 'string' || isKubernetesAuditEntry(entry)) auditEntries += 1;
    if (!dryRun && typeof result !== 'string') continue;
    const denials = typeof result === 'string' ? parseDenials(result) : [];
    if (denials.length === 0) {
      unparsed += 1;
      continue;
    }
    const timestamp = stringOrUndefined(record(entry).timestamp);
    const namespace = namespaceOf(entry);
    const cluster = clusterOf(entry);
    for (const { image, rule } of denials) {
      const seen = byImage.get(image) ?? { count: 0, rules: new Set(), namespaces: new Set(), clusters: new Set() };
      seen.count += 1;
      seen.rules.add(rule);
      if (namespace !== undefined) seen.namespaces.add(namespace);
      if (cluster !== undefined) seen.clusters.add(cluster);
      if (timestamp !== undefined) {
        if (seen.first === undefined || timestamp < seen.first) seen.first = timestamp;
        if (seen.last === undefined || timestamp > seen.last) seen.last = timestamp;
      }
      byImage.set(image, seen);
    }
  }
  const violations = [...byImage.entries()]
    .map(([image, seen]) => ({
      image,
      count: seen.count,
      rules: [...seen.rules].sort(),
      namespaces: [...seen.namespaces].sort(),
      clusters: [...seen.clusters].sort(),
      firstSeen: seen.first,
      lastSeen: seen.last,
    }))
    .sort((a, b) => b.count - a.count || a.image.localeCompare(b.image));
  return { violations, entries: entries.length, unparsed, auditEntries };
}

/** "Image X denied by RULE." sentences; an image denied twice in one entry (two rules) counts once. */
export function parseDenials(text: string): { image: string; rule: string }[] {
  const denials = new Map<string, string>();
  for (const match of text.matchAll(/Image (\S+?) denied by (.+?)(?=\.\s|\.$|$)/gm)) {
    const image = (match[1] ?? '').replace(/^['"]|['"]$/g, '');
    if (image !== '' && !denials.has(image)) denials.set(image, (match[2] ?? '').trim());
  }
  return [...denials.entries()].map(([image, rule]) => ({ image, rule }));
}

/** A Cloud Audit Log entry of the Kubernetes API (`protoPayload.serviceName: k8s.io`), as GKE writes for Pod creations. */
function isKubernetesAuditEntry(entry: unknown): boolean {
  const payload = record(record(entry).protoPayload);
  return payload['@type'] === 'type.googleapis.com/google.cloud.audit.AuditLog' && payload.serviceName === 'k8s.io';
}

function namespaceOf(entry: unknown): string | undefined {
  const payload = record(record(entry).protoPayload);
  const resourceName = stringOrUndefined(payload.resourceName);
  const match = resourceName === undefined ? null : /namespaces\/([^/]+)/.exec(resourceName);
  if (match?.[1] !== undefined) return match[1];
  return stringOrUndefined(record(record(payload.request).metadata).namespace);
}

function clusterOf(entry: unknown): string | undefined {
  const labels = record(record(record(entry).resource).labels);
  const name = stringOrUndefined(labels.cluster_name);
  const location = stringOrUndefined(labels.location);
  if (name === undefined) return undefined;
  return location === undefined ? name : `${location}.${name}`;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
