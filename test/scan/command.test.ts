import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

const config = ['--config', 'examples/mirrorhook.yaml'];

describe('mirrorhook scan', () => {
  it('prints a ready images.txt: unique fully-qualified third-party references, sorted', async () => {
    const { code, stdout, stderr } = await runCommand(['scan', ...config, 'examples']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([...new Set(lines)].sort());
    expect(lines).toContain('docker.io/library/node:20.11.1-bookworm');
    expect(lines).not.toContain('us-docker.pkg.dev/my-project/mirror/docker.io/library/redis:7.2');
    expect(stderr).toContain('skipped examples/compose/docker-compose.yml:9: templated: ${REDIS_IMAGE:-redis:7}');
    // Helm templates outside a chart folder are still templates, not broken YAML.
    expect(stderr).not.toContain('unparsable');
    expect(lines).toContain('docker.io/envoyproxy/envoy:v1.30.1');
  });

  it('prints one JSON object per occurrence, and every reference with --include-mirrored', async () => {
    const { stdout } = await runCommand(['scan', ...config, '--output', 'json', 'examples/k8s']);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toEqual({
      file: 'examples/k8s/cronjob.yaml',
      line: 15,
      column: 20,
      start: 273,
      end: 304,
      image: 'registry.k8s.io/kubectl:v1.30.2',
      source: 'registry.k8s.io/kubectl:v1.30.2',
      kind: 'CronJob',
      name: 'nightly-backup',
      container: 'backup',
      format: 'kubernetes',
      standing: 'third-party',
      target: 'us-docker.pkg.dev/my-project/mirror/registry.k8s.io/kubectl:v1.30.2',
      skipReason: null,
    });
    expect(records.map((record) => record.standing)).not.toContain('mirrored');
    const all = await runCommand(['scan', ...config, '--include-mirrored', '-o', 'json', 'examples/k8s']);
    expect(all.stdout).toContain('"standing":"mirrored"');
    expect(all.stdout).toContain('"standing":"left-out"');
  });

  it('prints a table', async () => {
    const { stdout } = await runCommand(['scan', ...config, '-o', 'table', 'examples/k8s/cronjob.yaml']);
    expect(stdout.split('\n')[0]).toMatch(/^FILE:LINE\s+KIND\s+NAME\s+SOURCE\s+STATUS$/);
    expect(stdout).toMatch(/examples\/k8s\/cronjob.yaml:15\s+CronJob\s+nightly-backup\/backup\s+registry.k8s.io\/kubectl:v1.30.2\s+third-party/);
  });

  it('exits 2 on bad usage and a missing path', async () => {
    expect((await runCommand(['scan', ...config])).code).toBe(2);
    expect((await runCommand(['scan', ...config, '--cluster', 'examples'])).code).toBe(2);
    expect((await runCommand(['scan', ...config, '-o', 'yaml', 'examples'])).code).toBe(2);
    const missing = await runCommand(['scan', ...config, 'examples/nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('MH_SCAN_PATH');
  });
});
