import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

const config = ['--config', 'examples/mirrorhook.yaml'];

describe('mirrorhook pulls --from-logs', () => {
  it('prints the table of the shipped gcloud export, most pulled first', async () => {
    const { code, stdout, stderr } = await runCommand(['pulls', ...config, '--from-logs', 'examples/logs/gcloud-events.json']);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^PULLS\s+IMAGE\s+REGISTRY\s+FIRST SEEN\s+LAST SEEN\s+PER 6H\s+DOCKER HUB LIMIT$/);
    expect(lines[1]).toMatch(/^46\s+docker\.io\/library\/nginx:1\.25\.4\s+docker\.io\s+2026-11-20T06:00:00Z\s+2026-11-20T17:18:00Z\s+24\.42\s+24% of 100$/);
    expect(stdout).toContain('us-docker.pkg.dev (mirror)');
    expect(stdout).toContain('77 pulls of 6 images');
    expect(stderr).toContain('77 pulls in 80 log entries');
  });

  it('prints JSON per image from BigQuery rows', async () => {
    const { code, stdout } = await runCommand(['pulls', ...config, '-o', 'json', '--from-logs', 'examples/logs/bigquery-rows.jsonl']);
    expect(code).toBe(0);
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line) as { pulls: number; image: string });
    expect(rows.reduce((sum, row) => sum + row.pulls, 0)).toBe(40);
    expect(rows.map((row) => row.pulls)).toEqual([...rows.map((row) => row.pulls)].sort((a, b) => b - a));
  });

  it('exits 2 for a missing file, bad durations and mixed sources', async () => {
    const missing = await runCommand(['pulls', ...config, '--from-logs', 'examples/logs/nope.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('MH_PULLS_LOG_READ');
    const notLogs = await runCommand(['pulls', ...config, '--from-logs', 'examples/app/Dockerfile']);
    expect(notLogs.stderr).toContain('MH_PULLS_LOG_FORMAT');
    expect((await runCommand(['pulls', ...config, '--watch', 'soon'])).code).toBe(2);
    expect((await runCommand(['pulls', ...config, '--from-logs', 'x', '--watch', '1m'])).code).toBe(2);
  });
});
