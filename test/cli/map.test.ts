import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

describe('mirrorhook map', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mh-map-'));
  const config = join(directory, 'mirrorhook.yaml');
  writeFileSync(config, 'mirror:\n  registry: us-docker.pkg.dev/my-project/mirror\nswap: always\ncopy: none\n');

  it('prints one JSON object per input following the contract', async () => {
    const result = await runCommand(['map', '--config', config, '--output', 'json', 'nginx:1.14.2', 'us-docker.pkg.dev/my-project/mirror/docker.io/library/nginx:1.14.2', 'NGINX']);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        input: 'nginx:1.14.2',
        source: 'docker.io/library/nginx:1.14.2',
        target: 'us-docker.pkg.dev/my-project/mirror/docker.io/library/nginx:1.14.2',
        action: 'rewrite',
        reason: 'rewrite: host-path layout into us-docker.pkg.dev/my-project/mirror',
      },
      {
        input: 'us-docker.pkg.dev/my-project/mirror/docker.io/library/nginx:1.14.2',
        source: 'us-docker.pkg.dev/my-project/mirror/docker.io/library/nginx:1.14.2',
        target: null,
        action: 'skip',
        reason: 'already-mirrored: already in the mirror us-docker.pkg.dev/my-project/mirror',
      },
      { input: 'NGINX', source: null, target: null, action: 'invalid', reason: 'repository name must be lowercase: "library/NGINX" in "NGINX"' },
    ]);
    for (const line of lines) expect(Object.keys(line)).toEqual(['input', 'source', 'target', 'action', 'reason']);
  });

  it('exits 0 when every reference is valid, and prints a table by default', async () => {
    const result = await runCommand(['map', '--config', config, 'quay.io/prometheus/node-exporter:v1.8.0']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^INPUT\s+ACTION\s+TARGET\s+REASON\n/);
    expect(result.stdout).toContain('us-docker.pkg.dev/my-project/mirror/quay.io/prometheus/node-exporter:v1.8.0');
  });

  it('uses mirrorhook.yaml from the working directory, else the built-in default', async () => {
    const builtIn = await runCommand(['map', '-o', 'json', 'nginx'], { cwd: tmpdir() });
    expect(JSON.parse(builtIn.stdout).target).toBe('localhost:5000/mirror/docker.io/library/nginx');
  });

  it.each([
    [['map'], /at least one IMAGE/],
    [['map', '--output', 'yaml', 'nginx'], /--output must be text or json/],
    [['map', '--bogus', 'nginx'], /Unknown option '--bogus'/],
  ])('exits 2 on bad usage: %j', async (argv, message) => {
    const result = await runCommand(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/MH_USAGE/);
    expect(result.stderr).toMatch(message);
  });

  it('exits 2 with every problem listed on a broken config', async () => {
    const broken = join(directory, 'broken.yaml');
    writeFileSync(broken, 'mirror:\n  layout: flat\nswap: always\ncopy: none\n');
    const result = await runCommand(['map', '--config', broken, 'nginx']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MH_CONFIG_INVALID');
    expect(result.stderr).toContain('mirror.registry: required');
    expect(result.stderr).toContain('mirror.layout: "flat" is not one of');
  });
});

describe('mirrorhook (top level)', () => {
  it('lists the commands on --help and refuses unknown ones with exit 2', async () => {
    const help = await runCommand(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['serve', 'map', 'certs']) expect(help.stdout).toContain(`  ${name} `);
    const unknown = await runCommand(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('command registry', () => {
  it('lists each command with the summary and name of the module it loads', async () => {
    const { commands } = await import('../../src/cli/commands/index.js');
    for (const entry of commands) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.summary).toBe(entry.summary);
    }
  });
});
