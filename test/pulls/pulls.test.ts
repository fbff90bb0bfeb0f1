import { describe, expect, it } from 'vitest';
import { isMirrorhookError } from '../../src/errors.js';
import { aggregatePulls } from '../../src/pulls/aggregate.js';
import { parseDuration } from '../../src/cli/duration.js';
import { PullTally, imageOfPullingMessage, pullFromCoreEvent, pullFromEventsV1, toDate } from '../../src/pulls/events.js';
import { parseLogExport } from '../../src/pulls/logs.js';
import { testMapper } from '../scan/mapper.js';

/** A core/v1 Event as `kubectl get events -o json` shows it. */
function coreEvent(overrides: Record<string, unknown> = {}) {
  return {
    metadata: { uid: 'u1', namespace: 'web', name: 'web-1.17f' },
    involvedObject: { kind: 'Pod', namespace: 'web', name: 'web-1' },
    reason: 'Pulling',
    message: 'Pulling image "nginx:1.25"',
    count: 3,
    firstTimestamp: '2026-11-20T06:00:00Z',
    lastTimestamp: '2026-11-20T07:00:00Z',
    type: 'Normal',
    ...overrides,
  };
}

describe('Pulling events', () => {
  it('reads the image of the kubelet message, and nothing else', () => {
    expect(imageOfPullingMessage('Pulling image "ghcr.io/o/app:1"')).toBe('ghcr.io/o/app:1');
    expect(imageOfPullingMessage('pulling image "busybox"')).toBe('busybox');
    expect(imageOfPullingMessage('Successfully pulled image "nginx" in 1s')).toBeUndefined();
    expect(imageOfPullingMessage(undefined)).toBeUndefined();
  });

  it('reads core/v1 and events.k8s.io/v1 events of one pull the same way', () => {
    const core = pullFromCoreEvent(coreEvent());
    const v1 = pullFromEventsV1({
      metadata: { uid: 'u1', namespace: 'web' },
      regarding: { namespace: 'web', name: 'web-1' },
      reason: 'Pulling',
      note: 'Pulling image "nginx:1.25"',
      deprecatedCount: 3,
      deprecatedFirstTimestamp: '2026-11-20T06:00:00Z',
      deprecatedLastTimestamp: '2026-11-20T07:00:00Z',
    });
    expect(core).toEqual(v1);
    expect(core).toMatchObject({ image: 'nginx:1.25', count: 3, namespace: 'web', uid: 'u1' });
    expect(pullFromCoreEvent(coreEvent({ reason: 'Pulled', message: 'Pulling image "x"' }))).toBeUndefined();
    expect(pullFromEventsV1({ note: 'Pulling image "a"', series: { count: 7, lastObservedTime: '2026-11-20T08:00:00Z' }, eventTime: '2026-11-20T06:00:00Z' })).toMatchObject({ count: 7 });
  });

  it('counts one event once across API versions and watch updates, keeping its highest count', () => {
    const tally = new PullTally();
    tally.observe(pullFromCoreEvent(coreEvent({ count: 2 }))!);
    tally.observe(pullFromCoreEvent(coreEvent({ count: 5, lastTimestamp: '2026-11-20T09:00:00Z' }))!);
    tally.observe(pullFromCoreEvent(coreEvent({ count: 4 }))!);
    tally.observe(pullFromCoreEvent(coreEvent({ metadata: { uid: 'u2' } }))!);
    const records = tally.records();
    expect(records.map((record) => record.count)).toEqual([5, 3]);
    expect(records[0]?.last?.toISOString()).toBe('2026-11-20T09:00:00.000Z');
  });

  it('reads BigQuery timestamps', () => {
    expect(toDate('2026-11-20 06:00:00.123 UTC')?.toISOString()).toBe('2026-11-20T06:00:00.123Z');
    expect(toDate('1.7636184E9')?.toISOString()).toBe('2025-11-20T06:00:00.000Z');
    expect(toDate('not a date')).toBeUndefined();
  });
});

describe('aggregatePulls', () => {
  it('groups by normalised reference, sorts by pulls and rates Docker Hub against 100 per 6 hours', () => {
    const at = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour));
    const record = (image: string, count: number, first: number, last: number) => ({ image, count, first: at(first), last: at(last), namespace: 'a', pod: undefined, uid: undefined });
    const summary = aggregatePulls(
      [
        record('nginx:1.25', 30, 0, 6),
        record('docker.io/library/nginx:1.25', 30, 6, 12),
        record('quay.io/p/x:1', 80, 0, 1),
        record('mirror.example.com/m/docker.io/library/redis:7', 2, 0, 1),
      ],
      testMapper(),
    );
    expect(summary.rows.map((row) => [row.image, row.pulls, row.registry, row.standing])).toEqual([
      ['quay.io/p/x:1', 80, 'quay.io', 'third-party'],
      ['docker.io/library/nginx:1.25', 60, 'docker.io', 'third-party'],
      ['mirror.example.com/m/docker.io/library/redis:7', 2, 'mirror.example.com', 'mirrored'],
    ]);
    const nginx = summary.rows[1];
    // 60 pulls over 12 hours is 30 per 6 hours: 30% of the anonymous limit.
    expect(nginx?.pullsPer6h).toBe(30);
    expect(nginx?.dockerHubShare).toBeCloseTo(0.3);
    // Seen within an hour, 80 pulls still count as 80 in a 6-hour window.
    expect(summary.rows[0]?.pullsPer6h).toBe(80);
    expect(summary.rows[0]?.dockerHubShare).toBeUndefined();
    expect(summary.pulls).toBe(142);
    expect(summary.dockerHubPer6h).toBe(30);
  });
});

describe('parseLogExport', () => {
  it('reads gcloud logging read --format=json entries and ignores entries that are not Pulling', () => {
    const text = JSON.stringify([
      { timestamp: '2026-11-20T06:00:00Z', jsonPayload: { reason: 'Pulling', message: 'Pulling image "nginx"', involvedObject: { namespace: 'web' } } },
      { timestamp: '2026-11-20T06:01:00Z', jsonPayload: { reason: 'Pulled', message: 'Successfully pulled image "nginx"' } },
      { timestamp: '2026-11-20T06:02:00Z', textPayload: 'Pulling image "busybox:1"', resource: { labels: { namespace_name: 'ops' } } },
    ]);
    const exported = parseLogExport(text, 'x.json');
    expect(exported.entries).toBe(3);
    expect(exported.records.map((record) => [record.image, record.namespace, record.first?.toISOString()])).toEqual([
      ['nginx', 'web', '2026-11-20T06:00:00.000Z'],
      ['busybox:1', 'ops', '2026-11-20T06:02:00.000Z'],
    ]);
  });

  it('reads BigQuery rows, nested or flattened, as a JSON array or JSON lines', () => {
    const lines = [
      JSON.stringify({ timestamp: '2026-11-20 06:00:00 UTC', jsonPayload: { message: 'Pulling image "a:1"' } }),
      JSON.stringify({ timestamp: '1.7636184E9', jsonPayload_message: 'Pulling image "b:1"' }),
      '',
      JSON.stringify({ timestamp: '2026-11-20 07:00:00 UTC', message: 'Pulling image "c:1"' }),
    ].join('\n');
    expect(parseLogExport(lines, 'rows.jsonl').records.map((record) => record.image)).toEqual(['a:1', 'b:1', 'c:1']);
  });

  it('rejects what is not an export, with the place', () => {
    for (const [text, where] of [['[1, 2]', 'entry 1'], ['{"a":1}\nnot json', 'rows:2'], ['[{"a":', 'not valid JSON']] as const) {
      let caught: unknown;
      try {
        parseLogExport(text, 'rows');
      } catch (error) {
        caught = error;
      }
      expect(isMirrorhookError(caught, 'MH_PULLS_LOG_FORMAT')).toBe(true);
      expect((caught as Error).message).toContain(where);
    }
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations and refuses the rest', () => {
    expect(parseDuration('90s', '--watch')).toBe(90_000);
    expect(parseDuration('1h30m', '--watch')).toBe(5_400_000);
    expect(parseDuration('2d', '--watch')).toBe(172_800_000);
    for (const bad of ['', '10', '5 m', '0s', '-1m', '1h-5m']) {
      expect(() => parseDuration(bad, '--watch')).toThrow(/--watch/);
    }
  });
});
