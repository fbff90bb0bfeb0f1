import { describe, expect, it } from 'vitest';
import { type SyncRecord, ago, encodeRecord, forgetAfterMs, mergeRun, parseRecord, shardTag, staleAfterHours, syncRecordRepository, syncStatusView } from '../../src/sync/record.js';
import type { RepositorySyncReport } from '../../src/sync/run.js';
import { SyncStatusCache } from '../../src/status/sync.js';

// The sync status record's model: how a run merges into the previous records, and what report and /status show.

const hour = 3600 * 1000;
const t0 = new Date('2026-11-30T06:17:00.000Z');
const at = (hours: number): Date => new Date(t0.getTime() + hours * hour);

function report(source: string, outcome: { failed?: number; copied?: number } = {}): RepositorySyncReport {
  return {
    source,
    target: `mirror.example/m/${source}`,
    matched: ['1.0', '1.1'],
    current: outcome.copied === undefined ? ['1.0', '1.1'] : ['1.0'],
    copied: outcome.copied === undefined ? [] : ['1.1'],
    moved: [],
    failed: Array.from({ length: outcome.failed ?? 0 }, (_, index) => ({ tag: `1.${index}`, code: 'MH_REGISTRY_UNAVAILABLE', message: 'the registry answered 503' })),
  };
}

describe('sync status record', () => {
  it('names the repository under the mirror prefix and one tag per shard', () => {
    expect(syncRecordRepository({ domain: 'us-docker.pkg.dev', prefix: 'proj/mirror' })).toEqual({ domain: 'us-docker.pkg.dev', path: 'proj/mirror/mirrorhook/sync-status' });
    expect(syncRecordRepository({ domain: 'localhost:5000', prefix: '' })).toEqual({ domain: 'localhost:5000', path: 'mirrorhook/sync-status' });
    expect(shardTag(undefined)).toBe('all');
    expect(shardTag({ index: 2, count: 4 })).toBe('shard-2-of-4');
  });

  it('keeps lastSuccess through a failing run and moves it for the repositories that succeeded', () => {
    const first = mergeRun([], 'all', [report('a'), report('b', { copied: 1 })], at(0), at(0.1));
    expect(first.repositories.map((entry) => [entry.source, entry.lastSuccess])).toEqual([
      ['a', t0.toISOString()],
      ['b', t0.toISOString()],
    ]);
    const second = mergeRun([first], 'all', [report('a'), report('b', { failed: 2 })], at(6), at(6.1));
    const [a, b] = second.repositories;
    expect(a).toMatchObject({ lastAttempt: at(6).toISOString(), lastSuccess: at(6).toISOString(), lastError: null });
    expect(b).toMatchObject({
      lastAttempt: at(6).toISOString(),
      lastSuccess: t0.toISOString(),
      counts: { matched: 2, failed: 2 },
      lastError: { code: 'MH_REGISTRY_UNAVAILABLE', message: '1.0: the registry answered 503' },
    });
  });

  it('never invents a success: a repository failing from the start has lastSuccess null and is stale', () => {
    const record = mergeRun([], 'all', [report('a', { failed: 1 })], at(0), at(0));
    expect(record.repositories[0]?.lastSuccess).toBeNull();
    expect(syncStatusView([record], 'm/mirrorhook/sync-status', at(0)).repositories[0]?.stale).toBe(true);
  });

  it('finds lastSuccess in another shard record after the shard count changed', () => {
    const old = mergeRun([], 'shard-1-of-4', [report('a')], at(0), at(0));
    const resharded = mergeRun([old], 'shard-0-of-2', [report('a', { failed: 1 })], at(6), at(6));
    expect(resharded.repositories[0]?.lastSuccess).toBe(t0.toISOString());
    // Both records are read back; the newest attempt is the row shown, with the newest success of either.
    const view = syncStatusView([old, resharded], 'r', at(7));
    expect(view.repositories).toHaveLength(1);
    expect(view.repositories[0]).toMatchObject({ shard: 'shard-0-of-2', lastAttempt: at(6).toISOString(), lastSuccess: t0.toISOString(), counts: { failed: 1 } });
  });

  it('keeps what a run did not reach (a glob whose catalog failed) for a week, then forgets it', () => {
    const first = mergeRun([], 'all', [report('a'), report('b')], at(0), at(0));
    const second = mergeRun([first], 'all', [report('a')], at(6), at(6));
    expect(second.repositories.map((entry) => [entry.source, entry.lastAttempt])).toEqual([
      ['a', at(6).toISOString()],
      ['b', t0.toISOString()],
    ]);
    const later = mergeRun([second], 'all', [report('a')], new Date(t0.getTime() + forgetAfterMs + hour), at(200));
    expect(later.repositories.map((entry) => entry.source)).toEqual(['a']);
  });

  it('marks stale past 48 hours without a success, and writes relative times', () => {
    const record = mergeRun([], 'all', [report('a')], at(0), at(0));
    expect(syncStatusView([record], 'r', at(staleAfterHours - 0.01)).stale).toBe(0);
    const view = syncStatusView([record], 'r', at(staleAfterHours + 0.01));
    expect(view).toMatchObject({ stale: 1, staleAfterHours: 48, checked: true, error: null, records: [{ shard: 'all', repositories: 1 }] });
    expect(ago(t0.toISOString(), at(3 + 12 / 60))).toBe('3 h 12 min ago');
    expect(ago(t0.toISOString(), at(52))).toBe('2 d 4 h ago');
    expect(ago(t0.toISOString(), at(0.5))).toBe('30 min ago');
    expect(ago(t0.toISOString(), t0)).toBe('just now');
  });

  it('reads back what it encodes, and refuses what is not a record', () => {
    const record: SyncRecord = mergeRun([], 'shard-0-of-2', [report('a'), report('b', { failed: 1 })], at(0), at(0.2));
    expect(parseRecord(encodeRecord(record), 'x')).toEqual(record);
    expect(() => parseRecord(Buffer.from('{"version":2}'), 'm:all')).toThrow(/m:all is not a sync status record/);
    expect(() => parseRecord(Buffer.from('not json'), 'm:all')).toThrow(expect.objectContaining({ code: 'MH_SYNC_RECORD' }));
    expect(() => parseRecord(Buffer.from(JSON.stringify({ ...record, repositories: [{ source: 'a' }] })), 'm:all')).toThrow(/repositories\[0\]/);
  });

  it('cuts long error messages so that a record stays small', () => {
    const long = { ...report('a'), failed: [{ tag: undefined, code: 'MH_SYNC_FAILED', message: 'x'.repeat(5000) }] };
    const record = mergeRun([], 'all', [long], at(0), at(0));
    expect(record.repositories[0]?.lastError?.message.length).toBeLessThanOrEqual(300);
  });
});

describe('the status page cache of the records', () => {
  const view = (error: { code: string; message: string } | null, sources: string[]) =>
    syncStatusView(error === null ? [mergeRun([], 'all', sources.map((source) => report(source)), at(0), at(0))] : [], 'r', at(1), error);

  it('reads the mirror at most once a minute, and keeps the last rows when a read fails', async () => {
    let now = 0;
    const answers = [view(null, ['a']), view({ code: 'MH_REGISTRY_UNAVAILABLE', message: 'down' }, []), view(null, ['a', 'b'])];
    const cache = new SyncStatusCache(async () => answers.shift() ?? view(null, []), view(null, []), { now: () => now });
    expect((await cache.view()).repositories.map((row) => row.source)).toEqual(['a']);
    now = 59_000;
    await cache.view();
    await cache.view();
    expect(cache.reads).toBe(1);
    now = 61_000;
    const failed = await cache.view();
    expect(cache.reads).toBe(2);
    expect(failed.error?.code).toBe('MH_REGISTRY_UNAVAILABLE');
    expect(failed.repositories.map((row) => row.source)).toEqual(['a']);
    now = 122_000;
    expect((await cache.view()).repositories.map((row) => row.source)).toEqual(['a', 'b']);
    expect(cache.reads).toBe(3);
  });

  it('answers with what it has when a read is slow, and reads once for pages asked together', async () => {
    let release: () => void = () => undefined;
    const placeholder = syncStatusView([], 'r', at(0), null, false);
    const cache = new SyncStatusCache(
      () => new Promise((resolve) => {
        release = () => resolve(view(null, ['a']));
      }),
      placeholder,
      { waitMs: 20 },
    );
    const [first, second] = await Promise.all([cache.view(), cache.view()]);
    expect(first.checked).toBe(false);
    expect(second.checked).toBe(false);
    expect(cache.reads).toBe(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await cache.view()).repositories.map((row) => row.source)).toEqual(['a']);
    expect(cache.reads).toBe(1);
  });
});
