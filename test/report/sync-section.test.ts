import { describe, expect, it } from 'vitest';
import { syncSection } from '../../src/report/sync.js';
import { mergeRun, syncStatusView } from '../../src/sync/record.js';

// "Kept current by sync", as the report and the status page render it from the same view.

const t0 = new Date('2026-11-30T06:17:00.000Z');
const hours = (n: number): Date => new Date(t0.getTime() + n * 3600 * 1000);
const ok = { target: 'm.example/m/a', matched: ['1'], current: ['1'], copied: [], moved: [], failed: [] };

describe('the sync section', () => {
  it('shows last success relative and absolute, the failures and the stale marker, escaped', () => {
    const first = mergeRun([], 'all', [{ ...ok, source: 'docker.io/team/a' }, { ...ok, source: 'docker.io/team/<b>' }], t0, t0);
    const second = mergeRun(
      [first],
      'all',
      [
        { ...ok, source: 'docker.io/team/a' },
        { ...ok, source: 'docker.io/team/<b>', failed: [{ tag: undefined, code: 'MH_REGISTRY_NOT_FOUND', message: 'gone <upstream>' }] },
      ],
      hours(40),
      hours(40),
    );
    const html = syncSection(syncStatusView([second], 'm.example/m/mirrorhook/sync-status', hours(50)), hours(50), 'offline');
    const rows = html.split('<tr').slice(2);
    expect(rows).toHaveLength(2);
    const a = rows.find((row) => row.includes('team/a<')) ?? '';
    const b = rows.find((row) => row.includes('team/&#60;b')) ?? '';
    expect(a).toContain('data-stale="false"');
    expect(a).toContain('✓</span> 10 h ago');
    expect(a).toContain(`datetime="${hours(40).toISOString()}"`);
    expect(b).toContain('data-stale="true"');
    expect(b).toContain('⚠ stale</span> 2 d 2 h ago');
    expect(b).toContain('docker.io/team/&#60;b&#62;');
    expect(b).toContain('MH_REGISTRY_NOT_FOUND</span>: gone &#60;upstream&#62;');
    expect(html).not.toContain('<b>');
    expect(html).toContain('<strong data-key="sync.stale">1</strong>');
  });

  it('says when the mirror was not asked, and when no run has recorded yet', () => {
    expect(syncSection(syncStatusView([], 'r', t0, null, false), t0, 'report --offline does not ask the mirror')).toContain('Not checked: report --offline does not ask the mirror');
    const empty = syncSection(syncStatusView([], 'm/mirrorhook/sync-status', t0), t0, '');
    expect(empty).toContain('No sync run has recorded its outcome in <code>m/mirrorhook/sync-status</code> yet');
    const failed = syncSection(syncStatusView([], 'r', t0, { code: 'MH_REGISTRY_UNAVAILABLE', message: 'HTTP 503' }), t0, '');
    expect(failed).toContain('⚠ The sync status records cannot be read: <code>MH_REGISTRY_UNAVAILABLE</code> HTTP 503');
  });
});
