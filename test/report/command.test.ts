import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

const config = ['--config', 'examples/mirrorhook.yaml'];
const inputs = ['--from-logs', 'examples/logs/gcloud-events.json', '--from-audit-logs', 'examples/logs/binauthz-dryrun.json', 'examples/'];
const directory = mkdtempSync(join(tmpdir(), 'mh-report-'));

interface ReportJson {
  images: { total: number; thirdParty: number; mirrored: number; leftOut: number; missingFromMirror: number | null; containers: number };
  registries: { registry: string; pulls: number }[];
  dockerHub: { pullsPer6h: number };
  waiting: Record<string, number>;
  binauthz: { image: string }[];
  list: { source: string; standing: string }[];
}

/** The numbers the page marks with data-key, as a map from key to text. */
export function pageNumbers(html: string): Map<string, string> {
  return new Map([...html.matchAll(/data-key="([^"]+)">([^<]*)</g)].map((match) => [match[1] ?? '', match[2] ?? '']));
}

describe('mirrorhook report', () => {
  it('counts the same third-party images as scan, and the same pulls as pulls --from-logs', async () => {
    const report = await runCommand(['report', ...config, '--offline', '-o', 'json', ...inputs]);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    const json = JSON.parse(report.stdout) as ReportJson;

    const scan = await runCommand(['scan', ...config, 'examples/']);
    const scanned = scan.stdout.trim().split('\n');
    expect(json.images.thirdParty).toBe(scanned.length);
    expect(json.list.filter((image) => image.standing === 'third-party').map((image) => image.source)).toEqual(scanned);

    const pulls = await runCommand(['pulls', ...config, '-o', 'json', '--from-logs', 'examples/logs/gcloud-events.json']);
    const rows = pulls.stdout.trim().split('\n').map((line) => JSON.parse(line) as { registry: string; pulls: number });
    const docker = rows.filter((row) => row.registry === 'docker.io').reduce((sum, row) => sum + row.pulls, 0);
    expect(json.registries.find((row) => row.registry === 'docker.io')?.pulls).toBe(docker);
    expect(json.registries.reduce((sum, row) => sum + row.pulls, 0)).toBe(rows.reduce((sum, row) => sum + row.pulls, 0));

    const policy = await runCommand(['policy', 'binauthz', ...config, '-o', 'json', '--from-audit-logs', 'examples/logs/binauthz-dryrun.json']);
    expect(json.binauthz.map((row) => row.image)).toEqual(policy.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { image: string }).image));
    expect(json.images.missingFromMirror).toBeNull();
  });

  it('writes a page whose numbers equal the JSON, with a strict CSP and nothing to fetch', async () => {
    const out = join(directory, 'report.html');
    const text = await runCommand(['report', ...config, '--offline', '--out', out, ...inputs]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`report written to ${out}`);
    const json = JSON.parse((await runCommand(['report', ...config, '--offline', '-o', 'json', ...inputs])).stdout) as ReportJson;
    const html = readFileSync(out, 'utf8');
    const numbers = pageNumbers(html);
    expect(numbers.get('images.total')).toBe(String(json.images.total));
    expect(numbers.get('images.thirdParty')).toBe(String(json.images.thirdParty));
    expect(numbers.get('images.mirrored')).toBe(String(json.images.mirrored));
    expect(numbers.get('images.missingFromMirror')).toBe('not checked');
    expect(numbers.get('dockerHub.pullsPer6h')).toBe(String(json.dockerHub.pullsPer6h));
    for (const row of json.registries) expect(numbers.get(`registries.${row.registry}.pulls`)).toBe(String(row.pulls));
    for (const [reason, count] of Object.entries(json.waiting)) expect(numbers.get(`waiting.${reason}`)).toBe(String(count));
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-[^']+';/);
    expect(html).not.toMatch(/(src|href)=|url\(|@import/);
    expect(html).toContain('<th scope="col">');
    expect(html).toContain('<caption>');
  });

  it('prints a short text summary', async () => {
    const result = await runCommand(['report', ...config, '--offline', '--out', join(directory, 'summary.html'), 'examples/']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+ of \d+ images served from the mirror, \d+ still third-party/);
    expect(result.stdout.trim().split('\n').length).toBeLessThanOrEqual(5);
  });

  it('fails with a stable code when the page cannot be written, and with usage errors on bad flags', async () => {
    const unwritable = await runCommand(['report', ...config, '--offline', '--out', directory, 'examples/']);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toContain('MH_REPORT_WRITE');
    const missing = await runCommand(['report', ...config, '--offline', '--out', join(directory, 'no/such/dir/r.html'), 'examples/']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('the folder');
    const none = await runCommand(['report', ...config]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('report needs a PATH, --cluster, --from-logs or --from-audit-logs');
    const kubeconfig = await runCommand(['report', ...config, '--kubeconfig', 'k', 'examples/']);
    expect(kubeconfig.code).toBe(2);
    const logs = await runCommand(['report', ...config, '--offline', '-o', 'json', '--from-logs', join(directory, 'absent.json')]);
    expect(logs.stderr).toContain('MH_PULLS_LOG_READ');
  });
});
