import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

/**
 * The wrong export must not read as a clean answer (issue 13, item 4): events given where dry-run audit entries
 * are expected used to print "80 log entries read, 0 images violated the policy" and exit 0.
 */
const config = ['--config', 'examples/mirrorhook.yaml'];
const events = 'examples/logs/gcloud-events.json';
const dryRun = 'examples/logs/binauthz-dryrun.json';
const allowed = 'examples/logs/binauthz-allowed.json';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-log-exports-'));
  await writeFile(join(dir, 'nothing-matched.json'), '[]\n');
  await writeFile(join(dir, 'empty.json'), '');
});

describe('policy binauthz --from-audit-logs given the wrong export', () => {
  it('refuses Pulling events with exit 2, saying what it expected and how to export it', async () => {
    const { code, stdout, stderr } = await runCommand(['policy', 'binauthz', ...config, '--from-audit-logs', events]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('MH_POLICY_AUDIT_LOG_KIND');
    expect(stderr).toContain('none of its 80 entries is a Binary Authorization dry-run audit entry');
    expect(stderr).toContain('77 are Kubernetes Pulling events: mirrorhook pulls --from-logs reads those');
    expect(stderr).toContain(`gcloud logging read 'labels."imagepolicywebhook.image-policy.k8s.io/dry-run"="true"' --format=json`);
    expect(stderr).not.toContain('violated');
  });

  it('refuses an empty file (not what gcloud prints) with exit 2', async () => {
    const { code, stderr } = await runCommand(['policy', 'binauthz', ...config, '--from-audit-logs', join(dir, 'empty.json')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/MH_POLICY_AUDIT_LOG_KIND.*empty\.json is empty/);
  });

  it('still reads a real export of Pod creations with no violation: exit 0, nothing listed', async () => {
    const { code, stdout, stderr } = await runCommand(['policy', 'binauthz', ...config, '-o', 'json', '--from-audit-logs', allowed]);
    expect(stderr).toBe('3 log entries read, 0 images violated the policy\n');
    expect(code).toBe(0);
    expect(stdout).toBe('');
  });

  it('still reads the dry-run export, and [] as an empty answer that says what it covers', async () => {
    const real = await runCommand(['policy', 'binauthz', ...config, '--from-audit-logs', dryRun]);
    expect(real.code).toBe(0);
    expect(real.stderr).toMatch(/^6 log entries read, 3 images violated the policy/);
    const none = await runCommand(['policy', 'binauthz', ...config, '--from-audit-logs', join(dir, 'nothing-matched.json')]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('0 log entries read, 0 images violated the policy (the export is empty: nothing matched the query;');
  });
});

describe('pulls --from-logs given the wrong export', () => {
  it('refuses Binary Authorization audit entries with exit 2, saying what it expected and how to export it', async () => {
    const { code, stdout, stderr } = await runCommand(['pulls', ...config, '--from-logs', dryRun]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('MH_PULLS_LOG_KIND');
    expect(stderr).toContain('none of its 6 entries is a Kubernetes Pulling event');
    expect(stderr).toContain('5 are Binary Authorization audit entries: mirrorhook policy binauthz --from-audit-logs reads those');
    expect(stderr).toContain(`gcloud logging read 'jsonPayload.reason="Pulling"' --format=json`);
  });

  it('refuses an empty file and accepts [] as nothing matched', async () => {
    const empty = await runCommand(['pulls', ...config, '--from-logs', join(dir, 'empty.json')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('MH_PULLS_LOG_KIND');
    const none = await runCommand(['pulls', ...config, '--from-logs', join(dir, 'nothing-matched.json')]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('0 pulls in 0 log entries');
    expect(none.stderr).toContain('the export is empty');
  });
});

describe('report given the wrong exports', () => {
  it('refuses events as --from-audit-logs and audit entries as --from-logs, with exit 2', async () => {
    const out = join(dir, 'report.html');
    const swapped = await runCommand(['report', '--offline', ...config, '--out', out, '--from-audit-logs', events]);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toContain('MH_POLICY_AUDIT_LOG_KIND');
    const swappedLogs = await runCommand(['report', '--offline', ...config, '--out', out, '--from-logs', dryRun]);
    expect(swappedLogs.code).toBe(2);
    expect(swappedLogs.stderr).toContain('MH_PULLS_LOG_KIND');
    const right = await runCommand(['report', '--offline', ...config, '-o', 'json', '--from-logs', events, '--from-audit-logs', allowed]);
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
  });
});
