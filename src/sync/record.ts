/**
 * The sync status record: what each `mirrorhook sync` run leaves in the mirror so that `report` and the webhook's
 * status page can tell when every synced repository last succeeded (docs/adr/0215-sync-status-in-the-mirror.md).
 * Pure: the model, the merge of a run into the previous records, the JSON form, and the view both pages show.
 * Reading and writing the artifact is record-store.ts.
 */
import { MirrorhookError } from '../errors.js';
import type { MirrorRegistry } from '../mapping/index.js';
import type { Shard } from './policy.js';
import type { RepositorySyncReport } from './run.js';

/** The OCI artifactType (and the data blob's media type) of a sync status record. */
export const syncRecordMediaType = 'application/vnd.mirrorhook.sync-status.v1+json';
/** The repository, under the mirror's prefix, that holds one tag per shard. */
export const syncRecordPath = 'mirrorhook/sync-status';
/** A repository no run has attempted for this long is dropped from its shard's record (removed from sync:). */
export const forgetAfterMs = 7 * 24 * 3600 * 1000;
/**
 * Past this without a success a repository is marked stale. The readers (report, webhook) do not know the CronJob
 * schedule (it lives in the chart or the kustomize component, not in the config), so one fixed bound: 48 h is 8 runs
 * of the default 6-hourly schedule, and still inside a weekend a daily schedule would alert on by Monday.
 */
export const staleAfterHours = 48;
/** Error messages are cut here: a record stays a few hundred bytes per repository. */
const messageMax = 300;

export interface SyncCounts {
  readonly matched: number;
  readonly current: number;
  readonly copied: number;
  readonly moved: number;
  readonly failed: number;
}

export interface SyncRecordEntry {
  /** The source repository, or the glob whose catalog could not be read. */
  readonly source: string;
  readonly target: string | null;
  /** When the latest run that covered this repository started (ISO 8601). */
  readonly lastAttempt: string;
  /** When the latest run in which this repository had no failure started; null: never (in the records kept). */
  readonly lastSuccess: string | null;
  /** The latest attempt's counts. */
  readonly counts: SyncCounts;
  /** The latest attempt's first failure; null when it had none. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
}

export interface SyncRecord {
  readonly version: 1;
  /** `all`, or `shard-I-of-N`: the tag it is stored under. */
  readonly shard: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly repositories: readonly SyncRecordEntry[];
}

/** The tag a run's record is stored under. */
export function shardTag(shard: Shard | undefined): string {
  return shard === undefined ? 'all' : `shard-${shard.index}-of-${shard.count}`;
}

/** Where the records live: `<mirror host>/<mirror prefix>/mirrorhook/sync-status`. */
export function syncRecordRepository(mirror: MirrorRegistry): { readonly domain: string; readonly path: string } {
  return { domain: mirror.domain, path: mirror.prefix === '' ? syncRecordPath : `${mirror.prefix}/${syncRecordPath}` };
}

/**
 * This run's record: one entry per repository it covered, lastSuccess carried over from the newest previous
 * entry for the same source (from any shard's record, so a change of shard count keeps it), and the entries of the
 * shard's previous record this run did not reach (a glob whose catalog failed) kept as they were for a week.
 */
export function mergeRun(previous: readonly SyncRecord[], tag: string, reports: readonly RepositorySyncReport[], startedAt: Date, finishedAt: Date): SyncRecord {
  const newest = newestEntries(previous);
  const started = startedAt.toISOString();
  const entries = new Map<string, SyncRecordEntry>();
  for (const report of reports) {
    const failure = report.failed[0];
    const before = newest.get(report.source);
    entries.set(report.source, {
      source: report.source,
      target: report.target ?? null,
      lastAttempt: started,
      lastSuccess: failure === undefined ? started : (before?.lastSuccess ?? null),
      counts: { matched: report.matched.length, current: report.current.length, copied: report.copied.length, moved: report.moved.length, failed: report.failed.length },
      lastError: failure === undefined ? null : { code: failure.code, message: cut(failure.tag === undefined ? failure.message : `${failure.tag}: ${failure.message}`) },
    });
  }
  const own = previous.find((record) => record.shard === tag);
  for (const entry of own?.repositories ?? []) {
    if (entries.has(entry.source) || startedAt.getTime() - Date.parse(entry.lastAttempt) > forgetAfterMs) continue;
    entries.set(entry.source, entry);
  }
  return {
    version: 1,
    shard: tag,
    startedAt: started,
    finishedAt: finishedAt.toISOString(),
    repositories: [...entries.values()].sort((left, right) => compare(left.source, right.source)),
  };
}

/** Per source, the entry with the newest attempt across records; lastSuccess is the newest any record has. */
function newestEntries(records: readonly SyncRecord[]): Map<string, SyncRecordEntry> {
  const newest = new Map<string, SyncRecordEntry>();
  for (const record of records) {
    for (const entry of record.repositories) {
      const held = newest.get(entry.source);
      if (held === undefined) {
        newest.set(entry.source, entry);
        continue;
      }
      const latest = Date.parse(entry.lastAttempt) > Date.parse(held.lastAttempt) ? entry : held;
      newest.set(entry.source, { ...latest, lastSuccess: later(entry.lastSuccess, held.lastSuccess) });
    }
  }
  return newest;
}

export function encodeRecord(record: SyncRecord): Buffer {
  return Buffer.from(`${JSON.stringify(record)}\n`);
}

/** Reads a record strictly: a blob that is not one is reported, never half-read. */
export function parseRecord(bytes: Uint8Array, where: string): SyncRecord {
  const invalid = (detail: string): MirrorhookError => new MirrorhookError('MH_SYNC_RECORD', `${where} is not a sync status record: ${detail}`);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (!isObject(body) || body.version !== 1) throw invalid('no "version": 1');
  const { shard, startedAt, finishedAt, repositories } = body;
  if (typeof shard !== 'string' || !isTime(startedAt) || !isTime(finishedAt) || !Array.isArray(repositories)) throw invalid('"shard", "startedAt", "finishedAt" or "repositories" missing');
  return {
    version: 1,
    shard,
    startedAt,
    finishedAt,
    repositories: repositories.map((item: unknown, index): SyncRecordEntry => {
      if (!isObject(item) || typeof item.source !== 'string' || !isTime(item.lastAttempt) || !isObject(item.counts)) throw invalid(`repositories[${index}] lacks "source", "lastAttempt" or "counts"`);
      const counts = item.counts;
      const count = (key: keyof SyncCounts): number => (typeof counts[key] === 'number' ? counts[key] : 0);
      const error = item.lastError;
      return {
        source: item.source,
        target: typeof item.target === 'string' ? item.target : null,
        lastAttempt: item.lastAttempt,
        lastSuccess: isTime(item.lastSuccess) ? item.lastSuccess : null,
        counts: { matched: count('matched'), current: count('current'), copied: count('copied'), moved: count('moved'), failed: count('failed') },
        lastError: isObject(error) && typeof error.code === 'string' ? { code: error.code, message: typeof error.message === 'string' ? error.message : '' } : null,
      };
    }),
  };
}

export interface SyncRepositoryView extends SyncRecordEntry {
  /** The record (shard tag) the entry comes from. */
  readonly shard: string;
  /** No success, or none within staleAfterHours. */
  readonly stale: boolean;
}

/** The `sync` key of `report --output json` and `/status.json`, and the table both pages show. */
export interface SyncStatusView {
  /** False when the mirror was not asked (report --offline). */
  readonly checked: boolean;
  /** When the records were read (the webhook caches them for a minute). */
  readonly checkedAt: string | null;
  /** Reading the records failed: the table is empty (report) or the last one read (webhook). */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** `<mirror>/mirrorhook/sync-status`. */
  readonly repository: string;
  readonly staleAfterHours: number;
  readonly stale: number;
  readonly records: readonly { readonly shard: string; readonly startedAt: string; readonly finishedAt: string; readonly repositories: number }[];
  readonly repositories: readonly SyncRepositoryView[];
}

/** One row per source across all records (the newest attempt wins, a repository that changed shard shows once). */
export function syncStatusView(records: readonly SyncRecord[], repository: string, now: Date, error: SyncStatusView['error'] = null, checked = true): SyncStatusView {
  const rows = new Map<string, SyncRepositoryView>();
  for (const record of records) {
    for (const entry of record.repositories) {
      const held = rows.get(entry.source);
      if (held !== undefined && Date.parse(held.lastAttempt) >= Date.parse(entry.lastAttempt)) {
        rows.set(entry.source, { ...held, lastSuccess: later(held.lastSuccess, entry.lastSuccess) });
        continue;
      }
      rows.set(entry.source, { ...entry, shard: record.shard, lastSuccess: later(held?.lastSuccess ?? null, entry.lastSuccess), stale: false });
    }
  }
  const bound = now.getTime() - staleAfterHours * 3600 * 1000;
  const repositories = [...rows.values()]
    .map((row) => ({ ...row, stale: row.lastSuccess === null || Date.parse(row.lastSuccess) < bound }))
    .sort((left, right) => compare(left.source, right.source));
  return {
    checked,
    checkedAt: checked ? now.toISOString() : null,
    error,
    repository,
    staleAfterHours,
    stale: repositories.filter((row) => row.stale).length,
    records: records.map((record) => ({ shard: record.shard, startedAt: record.startedAt, finishedAt: record.finishedAt, repositories: record.repositories.length })),
    repositories,
  };
}

/** "3 h 12 min ago", "2 d 4 h ago", "just now": how long before `now` a time was. */
export function ago(time: string, now: Date): string {
  const minutes = Math.floor((now.getTime() - Date.parse(time)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`} ago`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 === 0 ? '' : ` ${hours % 24} h`} ago`;
}

function later(left: string | null, right: string | null): string | null {
  if (left === null) return right;
  if (right === null) return left;
  return Date.parse(left) >= Date.parse(right) ? left : right;
}

function cut(text: string): string {
  return text.length <= messageMax ? text : `${text.slice(0, messageMax - 1)}…`;
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const compare = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);
