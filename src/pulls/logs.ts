import { MirrorhookError } from '../errors.js';
import { readLogEntries } from '../google/log-export.js';
import { type PullRecord, imageOfPullingMessage, toDate } from './events.js';

export interface LogExport {
  readonly records: PullRecord[];
  /** Entries read in all. */
  readonly entries: number;
}

/**
 * Reads the export of the seed workflow's Cloud Logging query: `gcloud logging read --format=json` (a JSON array of
 * LogEntry objects whose `jsonPayload` is the Kubernetes Event), or BigQuery rows (`bq query --format=json`, a JSON
 * array, or one row per line; read by google/log-export.ts, as every export is) with `jsonPayload.message` — nested, or flattened as `jsonPayload_message` or
 * `message`. Each entry with a `Pulling image "X"` message is one pull: Cloud Logging writes an entry per event
 * update, so counting entries counts pulls. Other entries are ignored, but an export with entries and not one
 * Pulling event is the wrong export (MH_PULLS_LOG_KIND), not "no pulls"; `[]` (nothing matched) is accepted.
 */
export function parseLogExport(text: string, origin: string): LogExport {
  if (text.trim() === '') {
    throw new MirrorhookError('MH_PULLS_LOG_KIND', `${origin} is empty (gcloud prints [] when nothing matched); export with ${pullsExportCommand}`);
  }
  const entries = readLogEntries(text, origin, 'MH_PULLS_LOG_FORMAT');
  const records: PullRecord[] = [];
  for (const entry of entries) {
    const record = recordOf(entry);
    if (record !== undefined) records.push(record);
  }
  if (entries.length > 0 && records.length === 0) {
    const audit = entries.filter((entry) => Object.keys(objectAt(entry, 'labels') ?? {}).some((label) => label.startsWith('imagepolicywebhook.'))).length;
    const looksLike = audit > 0 ? ` (${audit} are Binary Authorization audit entries: mirrorhook policy binauthz --from-audit-logs reads those)` : '';
    throw new MirrorhookError(
      'MH_PULLS_LOG_KIND',
      `${origin}: none of its ${entries.length} entries is a Kubernetes Pulling event (message 'Pulling image "…"')${looksLike}; export with ${pullsExportCommand}`,
    );
  }
  return { records, entries: entries.length };
}

/** The query that exports the right entries, for messages. */
const pullsExportCommand = `gcloud logging read 'jsonPayload.reason="Pulling"' --format=json > pulls.json`;

function recordOf(entry: Record<string, unknown>): PullRecord | undefined {
  const payload = objectAt(entry, 'jsonPayload');
  const message = payload?.message ?? payload?.note ?? entry.jsonPayload_message ?? entry.message ?? entry.textPayload;
  const image = imageOfPullingMessage(message);
  if (image === undefined) return undefined;
  const reason = payload?.reason ?? entry.jsonPayload_reason ?? entry.reason;
  if (typeof reason === 'string' && reason !== 'Pulling') return undefined;
  const time =
    toDate(stringOrNumber(entry.timestamp)) ??
    toDate(stringOrNumber(payload?.lastTimestamp)) ??
    toDate(stringOrNumber(entry.receiveTimestamp)) ??
    toDate(stringOrNumber(payload?.eventTime));
  const involved = objectAt(payload ?? {}, 'involvedObject');
  const labels = objectAt(objectAt(entry, 'resource') ?? {}, 'labels');
  const namespace = involved?.namespace ?? labels?.namespace_name ?? entry.namespace;
  const pod = involved?.name ?? labels?.pod_name;
  return {
    image,
    count: 1,
    first: time,
    last: time,
    namespace: typeof namespace === 'string' ? namespace : undefined,
    pod: typeof pod === 'string' ? pod : undefined,
    uid: undefined,
  };
}

function objectAt(value: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const child = value[key];
  return child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : undefined;
}

function stringOrNumber(value: unknown): string | number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}
